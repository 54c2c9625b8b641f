/*
 * Description: the runtime for GCC's undefined-behaviour sanitizer
 * (-fsanitize=undefined, CMake option HARTOS_UBSAN). The compiler inserts a check
 * before every operation that can be undefined (signed overflow, a shift too far, an
 * index out of bounds, a misaligned or null pointer, ...) and calls one of the
 * __ubsan_handle_* functions below when the check fails. hartos prints the kind, the
 * source location and the values, then panics: in a kernel, undefined behaviour is a
 * bug to fix, not a warning to scroll past. This file itself is built without the
 * sanitizer (CMakeLists.txt), or the handlers would check themselves.
 * The data layouts are the ones GCC and Clang share (compiler-rt's ubsan_handlers.h).
 */
#include <stdint.h>

#include "kernel/console.h"
#include "kernel/panic.h"

struct source_location {
    const char *file;
    uint32_t line, column;
};

struct type_descriptor {
    uint16_t kind; /* 0: integer, 1: float */
    uint16_t info; /* integers: bit 0 = signed, bits 1.. = log2 of the width */
    char name[];
};

struct overflow_data {
    struct source_location loc;
    const struct type_descriptor *type;
};

struct shift_data {
    struct source_location loc;
    const struct type_descriptor *lhs_type, *rhs_type;
};

struct out_of_bounds_data {
    struct source_location loc;
    const struct type_descriptor *array_type, *index_type;
};

struct type_mismatch_data {
    struct source_location loc;
    const struct type_descriptor *type;
    uint8_t log_alignment;
    uint8_t type_check_kind;
};

struct location_only_data {
    struct source_location loc;
};

struct invalid_value_data {
    struct source_location loc;
    const struct type_descriptor *type;
};

/* Prints a value the way its type says: values of up to 64 bits arrive inline. */
static void print_value(const char *label, const struct type_descriptor *type, uintptr_t v)
{
    if (type && type->kind == 0 && (type->info & 1))
        kprintf("ubsan:   %s = %ld (%s)\n", label, (long)v, type->name);
    else
        kprintf("ubsan:   %s = %lu (0x%lx, %s)\n", label, (unsigned long)v, (unsigned long)v,
                type ? type->name : "?");
}

__attribute__((noreturn)) static void report(const struct source_location *loc, const char *kind)
{
    panic("ubsan: %s at %s:%u:%u", kind, loc->file, loc->line, loc->column);
}

static void overflow(const struct overflow_data *d, const char *op, uintptr_t lhs, uintptr_t rhs)
{
    kprintf("ubsan: %s overflow in %s\n", op, d->type->name);
    print_value("lhs", d->type, lhs);
    print_value("rhs", d->type, rhs);
    report(&d->loc, (d->type->info & 1) ? "signed integer overflow" : "unsigned integer overflow");
}

void __ubsan_handle_add_overflow(const struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    overflow(d, "+", a, b);
}
void __ubsan_handle_sub_overflow(const struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    overflow(d, "-", a, b);
}
void __ubsan_handle_mul_overflow(const struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    overflow(d, "*", a, b);
}
void __ubsan_handle_divrem_overflow(const struct overflow_data *d, uintptr_t a, uintptr_t b)
{
    overflow(d, "/ or %", a, b);
}

void __ubsan_handle_negate_overflow(const struct overflow_data *d, uintptr_t old)
{
    print_value("operand", d->type, old);
    report(&d->loc, "negation overflow");
}

void __ubsan_handle_shift_out_of_bounds(const struct shift_data *d, uintptr_t lhs, uintptr_t rhs)
{
    print_value("lhs", d->lhs_type, lhs);
    print_value("shift", d->rhs_type, rhs);
    report(&d->loc, "shift out of bounds");
}

void __ubsan_handle_out_of_bounds(const struct out_of_bounds_data *d, uintptr_t index)
{
    print_value("index", d->index_type, index);
    kprintf("ubsan:   array type %s\n", d->array_type->name);
    report(&d->loc, "index out of bounds");
}

void __ubsan_handle_type_mismatch_v1(const struct type_mismatch_data *d, uintptr_t ptr)
{
    static const char *const what[] = {"load of",
                                       "store to",
                                       "reference binding to",
                                       "member access within",
                                       "member call on",
                                       "constructor call on",
                                       "downcast of",
                                       "downcast of",
                                       "upcast of",
                                       "cast to virtual base of",
                                       "nonnull binding to",
                                       "dynamic operation on"};
    const char *action = d->type_check_kind < sizeof(what) / sizeof(what[0])
                             ? what[d->type_check_kind]
                             : "access to";
    uintptr_t alignment = (uintptr_t)1 << d->log_alignment;
    if (!ptr)
        kprintf("ubsan: %s null pointer of type %s\n", action, d->type->name);
    else if (ptr & (alignment - 1))
        kprintf("ubsan: %s misaligned address %p for type %s (needs %lu-byte alignment)\n", action,
                (void *)ptr, d->type->name, (unsigned long)alignment);
    else
        kprintf("ubsan: %s address %p with too little space for type %s\n", action, (void *)ptr,
                d->type->name);
    report(&d->loc, !ptr                      ? "null pointer"
                    : (ptr & (alignment - 1)) ? "misaligned pointer"
                                              : "object too small");
}

void __ubsan_handle_load_invalid_value(const struct invalid_value_data *d, uintptr_t v)
{
    print_value("value", d->type, v);
    report(&d->loc, "load of a value invalid for its type (bool or enum)");
}

void __ubsan_handle_builtin_unreachable(const struct location_only_data *d)
{
    report(&d->loc, "__builtin_unreachable() reached");
}

void __ubsan_handle_pointer_overflow(const struct location_only_data *d, uintptr_t base,
                                     uintptr_t result)
{
    kprintf("ubsan:   base %p, result %p\n", (void *)base, (void *)result);
    report(&d->loc, "pointer arithmetic overflow");
}

void __ubsan_handle_vla_bound_not_positive(const struct invalid_value_data *d, uintptr_t bound)
{
    print_value("bound", d->type, bound);
    report(&d->loc, "variable-length array bound not positive");
}

void __ubsan_handle_nonnull_arg(const struct location_only_data *d)
{
    report(&d->loc, "null passed as an argument declared nonnull");
}

void __ubsan_handle_nonnull_return_v1(const struct location_only_data *d,
                                      const struct source_location *where)
{
    (void)where;
    report(&d->loc, "null returned from a function declared returns_nonnull");
}

void __ubsan_handle_invalid_builtin(const struct location_only_data *d)
{
    report(&d->loc, "invalid argument to a builtin (clz/ctz of 0)");
}
