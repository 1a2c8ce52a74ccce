/* dataset.h: the catalogue behind GET /json/{count}, parsed once at start-up
 * into typed items that each request serialises afresh. */
#ifndef RG_APP_DATASET_H
#define RG_APP_DATASET_H

#include "ringlet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One item of the file's top-level array. Strings are decoded (escapes
 * resolved, so they may hold any byte) and point into dataset.text. */
struct dataset_item {
	int64_t id;
	struct rg_str name, category;
	int64_t price, quantity;
	bool active;
	const struct rg_str *tags; /* into dataset.tags */
	size_t ntags;
	struct {
		int64_t score, count;
	} rating;
};

struct dataset {
	struct dataset_item *items;
	size_t count;
	struct rg_str *tags; /* every item's tags, back to back; owned */
	char *text;	     /* the file, strings decoded in place; owned */
};

/* Reads the JSON file `path`: an array of objects with exactly the members
 * of struct dataset_item, integers where it has int64_t. Returns 0, or
 * -errno with a message in why[0, why_len) ("line 12: expected ':'"). *ds
 * is left empty on failure. */
int dataset_load(struct dataset *ds, const char *path, char *why,
		 size_t why_len);

void dataset_free(struct dataset *ds);

#endif
