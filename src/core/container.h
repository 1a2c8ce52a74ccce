/* container.h: RG__CONTAINER, the structure a member belongs to (the io
 * ops and timers embedded in connections, workers and logs). */
#ifndef RG_CORE_CONTAINER_H
#define RG_CORE_CONTAINER_H

#include <stddef.h>

#define RG__CONTAINER(ptr, type, member)                                       \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
