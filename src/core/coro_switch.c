/* coro_switch.c: the coroutine context switch, written from the psABIs:
 * x86-64 System V and AAPCS64 in assembly, makecontext/swapcontext elsewhere.
 *
 * A switch is a call: the caller-saved registers are already dead to the
 * compiler, so only the callee-saved ones are pushed on the running stack,
 * the stack pointer is stored in `from`, and the same frame is popped from
 * `to`'s stack before returning into it. A new context gets a forged frame
 * whose return address is rg__coro_entry, which moves the entry's argument
 * (forged into a callee-saved register) into the first argument register and
 * calls the entry (forged into another). Its CFI marks the return address
 * undefined so that debuggers and unwinders stop there.
 *
 * The floating-point control state (rounding mode, exception masks, flush to
 * zero) is callee-saved in both ABIs, so it is switched too, as
 * boost.context does: a handler that changes its rounding mode does not
 * change the loop's or another handler's. The status flags are not: they
 * are caller-saved. bench/coro prices this at 5 ns of a 22 ns round trip
 * (KVM, AMD EPYC): small next to the I/O a switch waits for.
 *
 * A landing pad (endbr64, bti c) lets the switch be called indirectly in
 * IBT/BTI builds and is a NOP elsewhere. The x86-64 switch is not
 * compatible with CET shadow stacks (its `ret` lands elsewhere than the
 * call that entered it), which Debian does not enable. */
#include "core/coro.h"

#include <stdint.h>
#include <string.h>

#ifdef RG__CORO_ASM

RG__HIDDEN void rg__coro_entry(void);

#if defined(__x86_64__)

/* Frame at a saved sp, low to high: MXCSR (4 bytes), x87 control word
 * (2 bytes, then 2 of padding), r15, r14, r13, r12, rbx, rbp, return
 * address. 64 bytes. */
struct switch_frame {
	uint32_t mxcsr;
	uint16_t x87_cw, pad;
	uint64_t r15, r14, r13, r12, rbx, rbp, ret;
};

/* clang-format off */
__asm__(".pushsection .text\n"
	".balign 16\n"
	".globl rg__coro_ctx_switch\n"
	".hidden rg__coro_ctx_switch\n"
	".type rg__coro_ctx_switch, @function\n"
	"rg__coro_ctx_switch:\n" /* rdi = from, rsi = to */
	"	.cfi_startproc\n"
	"	endbr64\n"
	"	pushq %rbp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset rbp, 0\n"
	"	pushq %rbx\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset rbx, 0\n"
	"	pushq %r12\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset r12, 0\n"
	"	pushq %r13\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset r13, 0\n"
	"	pushq %r14\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset r14, 0\n"
	"	pushq %r15\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	.cfi_rel_offset r15, 0\n"
	"	subq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset 8\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq (%rsi), %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	popq %r15\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore r15\n"
	"	popq %r14\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore r14\n"
	"	popq %r13\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore r13\n"
	"	popq %r12\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore r12\n"
	"	popq %rbx\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore rbx\n"
	"	popq %rbp\n"
	"	.cfi_adjust_cfa_offset -8\n"
	"	.cfi_restore rbp\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size rg__coro_ctx_switch, .-rg__coro_ctx_switch\n"
	"\n"
	".balign 16\n"
	".globl rg__coro_entry\n"
	".hidden rg__coro_entry\n"
	".type rg__coro_entry, @function\n"
	"rg__coro_entry:\n" /* reached by `ret`; rsp is 16-aligned here */
	"	.cfi_startproc\n"
	"	.cfi_undefined rip\n"
	"	movq %r12, %rdi\n"
	"	call *%r13\n"
	"	ud2\n"
	"	.cfi_endproc\n"
	".size rg__coro_entry, .-rg__coro_entry\n"
	".popsection\n");
/* clang-format on */

void rg__coro_ctx_make(struct rg__coro_ctx *ctx, void *stack, size_t size,
		       void (*entry)(void *arg), void *arg)
{
	/* 16 bytes of zeros above the frame: after `ret` pops it, rsp is
	 * 16-aligned, and the entry's call leaves rsp = 8 mod 16 at
	 * the entry, as the ABI wants at every function entry. */
	char *top = (char *)stack + size;
	struct switch_frame *f = (struct switch_frame *)(top - 16) - 1;
	memset(f, 0, sizeof(*f) + 16);
	/* A new coroutine inherits its creator's FP control state, as a new
	 * thread does. */
	__asm__ volatile("stmxcsr %0" : "=m"(f->mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(f->x87_cw));
	f->r12 = (uintptr_t)arg;
	f->r13 = (uintptr_t)entry;
	f->ret = (uintptr_t)rg__coro_entry;
	ctx->sp = f; /* rbp = 0 ends frame-pointer chains here */
}

#elif defined(__aarch64__)

/* Frame at a saved sp, low to high: x19..x28, x29 (fp), x30 (lr), d8..d15,
 * FPCR, padding. 176 bytes: sp stays 16-aligned. */
struct switch_frame {
	uint64_t x[12]; /* x19..x30 */
	uint64_t d[8];	/* d8..d15 */
	uint64_t fpcr, pad;
};

/* clang-format off */
__asm__(".pushsection .text\n"
	".balign 16\n"
	".globl rg__coro_ctx_switch\n"
	".hidden rg__coro_ctx_switch\n"
	".type rg__coro_ctx_switch, %function\n"
	"rg__coro_ctx_switch:\n" /* x0 = from, x1 = to */
	"	.cfi_startproc\n"
	"	hint #34\n" /* bti c */
	"	sub sp, sp, #176\n"
	"	.cfi_def_cfa_offset 176\n"
	"	stp x19, x20, [sp, #0]\n"
	"	stp x21, x22, [sp, #16]\n"
	"	stp x23, x24, [sp, #32]\n"
	"	stp x25, x26, [sp, #48]\n"
	"	stp x27, x28, [sp, #64]\n"
	"	stp x29, x30, [sp, #80]\n"
	"	stp d8, d9, [sp, #96]\n"
	"	stp d10, d11, [sp, #112]\n"
	"	stp d12, d13, [sp, #128]\n"
	"	stp d14, d15, [sp, #144]\n"
	"	.cfi_offset x19, -176; .cfi_offset x20, -168\n"
	"	.cfi_offset x21, -160; .cfi_offset x22, -152\n"
	"	.cfi_offset x23, -144; .cfi_offset x24, -136\n"
	"	.cfi_offset x25, -128; .cfi_offset x26, -120\n"
	"	.cfi_offset x27, -112; .cfi_offset x28, -104\n"
	"	.cfi_offset x29, -96; .cfi_offset x30, -88\n"
	"	.cfi_offset d8, -80; .cfi_offset d9, -72\n"
	"	.cfi_offset d10, -64; .cfi_offset d11, -56\n"
	"	.cfi_offset d12, -48; .cfi_offset d13, -40\n"
	"	.cfi_offset d14, -32; .cfi_offset d15, -24\n"
	"	mrs x9, fpcr\n"
	"	str x9, [sp, #160]\n"
	"	mov x9, sp\n"
	"	str x9, [x0]\n"
	"	ldr x9, [x1]\n"
	"	mov sp, x9\n"
	"	ldp x19, x20, [sp, #0]\n"
	"	ldp x21, x22, [sp, #16]\n"
	"	ldp x23, x24, [sp, #32]\n"
	"	ldp x25, x26, [sp, #48]\n"
	"	ldp x27, x28, [sp, #64]\n"
	"	ldp x29, x30, [sp, #80]\n"
	"	ldp d8, d9, [sp, #96]\n"
	"	ldp d10, d11, [sp, #112]\n"
	"	ldp d12, d13, [sp, #128]\n"
	"	ldp d14, d15, [sp, #144]\n"
	"	ldr x9, [sp, #160]\n"
	"	msr fpcr, x9\n"
	"	add sp, sp, #176\n"
	"	.cfi_def_cfa_offset 0\n"
	"	.cfi_restore x19; .cfi_restore x20; .cfi_restore x21\n"
	"	.cfi_restore x22; .cfi_restore x23; .cfi_restore x24\n"
	"	.cfi_restore x25; .cfi_restore x26; .cfi_restore x27\n"
	"	.cfi_restore x28; .cfi_restore x29; .cfi_restore x30\n"
	"	.cfi_restore d8; .cfi_restore d9; .cfi_restore d10\n"
	"	.cfi_restore d11; .cfi_restore d12; .cfi_restore d13\n"
	"	.cfi_restore d14; .cfi_restore d15\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size rg__coro_ctx_switch, .-rg__coro_ctx_switch\n"
	"\n"
	".balign 16\n"
	".globl rg__coro_entry\n"
	".hidden rg__coro_entry\n"
	".type rg__coro_entry, %function\n"
	"rg__coro_entry:\n" /* reached by `ret`, which BTI does not check */
	"	.cfi_startproc\n"
	"	.cfi_undefined x30\n"
	"	mov x0, x19\n"
	"	blr x20\n"
	"	brk #0\n"
	"	.cfi_endproc\n"
	".size rg__coro_entry, .-rg__coro_entry\n"
	".popsection\n");
/* clang-format on */

void rg__coro_ctx_make(struct rg__coro_ctx *ctx, void *stack, size_t size,
		       void (*entry)(void *arg), void *arg)
{
	struct switch_frame *f =
	    (struct switch_frame *)((char *)stack + size) - 1;
	memset(f, 0, sizeof(*f));
	uint64_t fpcr;
	__asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
	f->fpcr = fpcr;
	f->x[0] = (uintptr_t)arg;	      /* x19 */
	f->x[1] = (uintptr_t)entry;	      /* x20 */
	f->x[11] = (uintptr_t)rg__coro_entry; /* x30: where ret goes */
	ctx->sp = f;			      /* x29 = 0 ends fp chains */
}

#endif

_Static_assert(sizeof(struct switch_frame) % 16 == 0,
	       "switch frame keeps the stack 16-byte aligned");

#else /* ucontext */

#include <stdlib.h>

/* makecontext passes only int arguments, so a new context finds its entry
 * and argument through the switch that enters it. */
static _Thread_local const struct rg__coro_ctx *entering;

static void uc_entry(void)
{
	entering->entry(entering->arg);
	abort(); /* entries never return */
}

void rg__coro_ctx_make(struct rg__coro_ctx *ctx, void *stack, size_t size,
		       void (*entry)(void *arg), void *arg)
{
	if (getcontext(&ctx->uc) < 0)
		abort(); /* documented to fail only where unimplemented */
	ctx->uc.uc_stack.ss_sp = stack;
	ctx->uc.uc_stack.ss_size = size;
	ctx->uc.uc_link = NULL;
	ctx->entry = entry;
	ctx->arg = arg;
	makecontext(&ctx->uc, uc_entry, 0);
}

void rg__coro_ctx_switch(struct rg__coro_ctx *from,
			 const struct rg__coro_ctx *to)
{
	entering = to;
	if (swapcontext(&from->uc, &to->uc) < 0)
		abort();
}

#endif
