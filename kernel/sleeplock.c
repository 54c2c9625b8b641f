/*
 * Description: sleeplocks (see sleeplock.h). The spinlock inside only guards the
 * `locked` word for a moment; waiting is done in sleep(), on the sleeplock itself.
 */
#include "kernel/sleeplock.h"

#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/thread.h"

void sleeplock_init(struct sleeplock *lk, const char *name)
{
    spinlock_init(&lk->lk, name);
    lk->name = name;
    lk->locked = 0;
    lk->waiters = 0;
    lk->holder = NULL;
}

void acquiresleep(struct sleeplock *lk)
{
    struct thread *self = thread_current();
    if (!self)
        panic("acquiresleep: '%s' taken outside a thread", lk->name);
    acquire(&lk->lk);
    if (lk->locked && lk->holder == self)
        panic("acquiresleep: thread '%s' already holds '%s'", self->name, lk->name);
    while (lk->locked) {
        lk->waiters++;
        sleep(lk, &lk->lk);
        lk->waiters--;
    }
    lk->locked = 1;
    lk->holder = self;
    release(&lk->lk);
}

void releasesleep(struct sleeplock *lk)
{
    acquire(&lk->lk);
    if (!lk->locked || lk->holder != thread_current())
        panic("releasesleep: '%s' released by a thread that does not hold it", lk->name);
    lk->locked = 0;
    lk->holder = NULL;
    /* Most releases have nobody waiting (every buffer cache hit ends in one): skip the
     * walk over the thread table then. */
    if (lk->waiters)
        wakeup(lk);
    release(&lk->lk);
}

int holdingsleep(struct sleeplock *lk)
{
    acquire(&lk->lk);
    int mine = lk->locked && lk->holder == thread_current();
    release(&lk->lk);
    return mine;
}
