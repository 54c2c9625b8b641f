/*
 * Description: the console line editor (see lineedit.h).
 *
 * Echo goes through kprintf, which collects output per hart and writes whole lines;
 * a line being typed is never whole, so each echo is flushed at once. Interrupts stay
 * off from the kprintf to the flush: a thread preempted in between could leave half
 * an echo in the hart's buffer for the next thread's output to run into.
 */
#include "kernel/lineedit.h"

#include <stdarg.h>

#include "kernel/console.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define CTRL(c) ((c)&0x1f)
#define ESC 0x1b
#define DEL 0x7f

static void echo(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_off();
    vkprintf(fmt, ap);
    console_flush();
    pop_off();
    va_end(ap);
}

/* Erases the line on the screen: back over each character, blank it, back again. */
static void erase_line(struct lineedit *le)
{
    for (; le->len > 0; le->len--)
        echo("\b \b");
    le->line[0] = 0;
}

void lineedit_reset(struct lineedit *le)
{
    le->len = 0;
    le->line[0] = 0;
    le->back = 0;
    le->esc = 0;
}

/* Up (older = 1) or Down (older = 0): show the history line `back` steps back. */
static void browse(struct lineedit *le, int older)
{
    int oldest = le->nhistory < LINEEDIT_HISTORY ? le->nhistory : LINEEDIT_HISTORY;
    int back = le->back + (older ? 1 : -1);
    if (back < 0 || back > oldest)
        return;
    le->back = back;
    erase_line(le);
    if (back > 0) /* back == 0 is the empty new line */
        strlcpy(le->line, le->history[(le->nhistory - back) % LINEEDIT_HISTORY], LINEEDIT_MAX);
    le->len = (int)strlen(le->line);
    echo("%s", le->line);
}

static void remember(struct lineedit *le)
{
    if (le->len == 0)
        return;
    if (le->nhistory > 0 &&
        strcmp(le->history[(le->nhistory - 1) % LINEEDIT_HISTORY], le->line) == 0)
        return; /* the same command again: keep the history useful */
    strlcpy(le->history[le->nhistory++ % LINEEDIT_HISTORY], le->line, LINEEDIT_MAX);
}

/* Inside an escape sequence: parameter bytes until a final byte (0x40..0x7e). */
static void escape(struct lineedit *le, int c)
{
    if (le->esc == 1) {
        le->esc = (c == '[' || c == 'O') ? 2 : 0;
        return;
    }
    if (c < 0x40 || c > 0x7e)
        return;
    le->esc = 0;
    if (c == 'A' || c == 'B')
        browse(le, c == 'A');
}

int lineedit_feed(struct lineedit *le, int c)
{
    int after_cr = le->after_cr;
    le->after_cr = c == '\r';
    if (le->esc) {
        escape(le, c);
        return LINEEDIT_MORE;
    }
    switch (c) {
    case '\n':
        if (after_cr)
            return LINEEDIT_MORE;
        /* fall through */
    case '\r':
        echo("\n");
        le->line[le->len] = 0;
        remember(le);
        return LINEEDIT_DONE;
    case '\b':
    case DEL:
        if (le->len > 0) {
            le->line[--le->len] = 0;
            echo("\b \b");
        }
        return LINEEDIT_MORE;
    case CTRL('U'):
        erase_line(le);
        return LINEEDIT_MORE;
    case CTRL('C'):
        echo("^C\n");
        lineedit_reset(le);
        return LINEEDIT_CANCEL;
    case ESC:
        le->esc = 1;
        return LINEEDIT_MORE;
    }
    if (c >= ' ' && c < DEL && le->len < LINEEDIT_MAX - 1) {
        le->line[le->len++] = (char)c;
        le->line[le->len] = 0;
        echo("%c", c);
    }
    return LINEEDIT_MORE;
}
