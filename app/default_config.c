/* default_config.c: app/ringlet.toml, compiled into the program as
 * app_default_config (NUL-terminated), so `ringlet` without -c runs on a
 * configuration that is also a readable, tested file. */
#include "app.h"

#ifndef APP_DEFAULT_CONFIG_PATH
#error "the Makefile defines APP_DEFAULT_CONFIG_PATH (app/ringlet.toml)"
#endif

__asm__(".section .rodata\n"
	".global app_default_config\n"
	".type app_default_config, %object\n"
	"app_default_config:\n"
	".incbin \"" APP_DEFAULT_CONFIG_PATH "\"\n"
	".byte 0\n"
	".size app_default_config, . - app_default_config\n"
	".previous\n");
