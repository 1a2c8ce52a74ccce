/* decimal.c: the digit-pair table behind decimal.h, and rg_format_u64. */
#include "http/decimal.h"
#include "ringlet.h"

const char rg__digit_pairs[201] = "00010203040506070809"
				  "10111213141516171819"
				  "20212223242526272829"
				  "30313233343536373839"
				  "40414243444546474849"
				  "50515253545556575859"
				  "60616263646566676869"
				  "70717273747576777879"
				  "80818283848586878889"
				  "90919293949596979899";

size_t rg_format_u64(char *buf, uint64_t v)
{
	return (size_t)(rg__u64_put(buf, v) - buf);
}
