/* account.c: the per-worker memory account and the only calls ringlet's
 * memory tiers make to the system allocator (mmap, malloc). */
#include "account.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

int rg__account_charge(struct rg_mem_account *account, size_t n)
{
	if (!account)
		return 0;
	if (account->limit &&
	    (n > account->limit || account->reserved > account->limit - n)) {
		account->failures++;
		return -ENOMEM;
	}
	account->reserved += n;
	if (account->reserved > account->peak)
		account->peak = account->reserved;
	return 0;
}

void rg__account_credit(struct rg_mem_account *account, size_t n)
{
	if (account)
		account->reserved -= n;
}

void *rg__sys_map(struct rg_mem_account *account, size_t n)
{
	if (rg__account_charge(account, n) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rg__account_credit(account, n);
		return NULL;
	}
	return p;
}

void rg__sys_unmap(struct rg_mem_account *account, void *p, size_t n)
{
	munmap(p, n);
	rg__account_credit(account, n);
}

void *rg__sys_alloc(struct rg_mem_account *account, size_t n)
{
	if (n > PTRDIFF_MAX)
		return NULL;
	if (rg__account_charge(account, n) < 0)
		return NULL;
	void *p = malloc(n);
	if (!p)
		rg__account_credit(account, n);
	return p;
}

void *rg__sys_realloc(struct rg_mem_account *account, void *p, size_t old_n,
		      size_t new_n)
{
	if (new_n > PTRDIFF_MAX)
		return NULL;
	if (new_n > old_n && rg__account_charge(account, new_n - old_n) < 0)
		return NULL;
	void *q = realloc(p, new_n);
	if (!q) {
		if (new_n > old_n)
			rg__account_credit(account, new_n - old_n);
		return NULL;
	}
	if (new_n < old_n)
		rg__account_credit(account, old_n - new_n);
	return q;
}

void rg__sys_free(struct rg_mem_account *account, void *p, size_t n)
{
	free(p);
	rg__account_credit(account, n);
}
