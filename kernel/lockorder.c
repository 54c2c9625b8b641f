/*
 * Description: the lock class table behind lockorder.h. The order of the enum is the
 * rank: a class may be acquired after every class listed before it.
 */
#include "kernel/lockorder.h"

static const char *const class_names[LOCK_CLASS_COUNT] = {
    [LOCK_CLASS_DEFAULT] = "default",
    [LOCK_CLASS_BCACHE_EVICT] = "bcache.evict",
    [LOCK_CLASS_BCACHE_BUCKET] = "bcache.bucket",
    [LOCK_CLASS_THREAD] = "thread",
    [LOCK_CLASS_RUNQ] = "runq",
    [LOCK_CLASS_PMEM_STEAL] = "pmem.steal",
    [LOCK_CLASS_PMEM] = "pmem",
    [LOCK_CLASS_LOCKSTAT] = "lockstat",
    [LOCK_CLASS_CONSOLE] = "console",
};

const char *lock_class_name(enum lock_class class)
{
    return class < LOCK_CLASS_COUNT ? class_names[class] : "?";
}

int lock_order_allows(enum lock_class held, enum lock_class next)
{
    if (held == LOCK_CLASS_DEFAULT && next == LOCK_CLASS_DEFAULT)
        return 1; /* condition locks are not ordered among themselves */
    return held < next;
}
