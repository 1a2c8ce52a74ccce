/* dataset.h: the catalogue behind GET /json/{count}, loaded once at start-up
 * and pre-split so a request serialises it without allocating. */
#ifndef RG_APP_DATASET_H
#define RG_APP_DATASET_H

#include <stddef.h>
#include <stdint.h>

/* One item of the dataset's top-level array. `head` is the item's object,
 * minified, without its closing brace and followed by the key of the field
 * each response adds: `{"id":1,...,"rating":{...},"total":` (or
 * `{"total":` for an empty object). A response writes head, the total, '}'. */
struct dataset_item {
	const char *head;
	size_t head_len;
	int64_t price;	  /* the item's integer "price" */
	int64_t quantity; /* the item's integer "quantity" */
};

struct dataset {
	struct dataset_item *items;
	size_t count;
	char *text; /* every head, back to back; owned */
};

/* Reads the JSON file `path`: an array of objects, each with integer "price"
 * and "quantity" members. Returns 0, or -errno with a message in why[0,
 * why_len) ("line 12: expected ':'"). *ds is left empty on failure. */
int dataset_load(struct dataset *ds, const char *path, char *why,
		 size_t why_len);

void dataset_free(struct dataset *ds);

#endif
