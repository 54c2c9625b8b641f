/*
 * Description: a small line editor for the console, fed one received byte at a time.
 * It echoes what is typed and understands what a terminal sends:
 *    printable bytes   appended to the line (up to LINEEDIT_MAX - 1 of them)
 *    Enter (CR or LF)  the line is done (a CR LF pair counts once)
 *    Backspace / DEL   erase the last character
 *    Ctrl-U            erase the whole line
 *    Ctrl-C            cancel the line
 *    Up / Down arrows  (ESC [ A / ESC [ B) older / newer lines from the history
 * Other control bytes and escape sequences (other arrows, Delete) are ignored.
 *  - lineedit_reset(le): start a new, empty line (after printing the prompt)
 *  - lineedit_feed(le, c): LINEEDIT_MORE while the line is being typed,
 *    LINEEDIT_DONE when le->line holds a finished line (NUL-terminated; non-empty
 *    lines go into the history), LINEEDIT_CANCEL after Ctrl-C
 * A struct lineedit belongs to one thread; it takes no lock.
 */
#pragma once

#define LINEEDIT_MAX 80    /* bytes per line, with the NUL */
#define LINEEDIT_HISTORY 8 /* lines remembered */

enum { LINEEDIT_MORE, LINEEDIT_DONE, LINEEDIT_CANCEL };

struct lineedit {
    char line[LINEEDIT_MAX]; /* the line being typed */
    int len;
    char history[LINEEDIT_HISTORY][LINEEDIT_MAX]; /* ring: the newest at (nhistory - 1) */
    int nhistory;                                 /* lines ever added */
    int back;     /* Up presses since the line started: 0 = the line being typed */
    int esc;      /* escape sequence: 0 none, 1 after ESC, 2 inside ESC [ or ESC O */
    int after_cr; /* the last byte was CR: a LF now is the same Enter */
};

void lineedit_reset(struct lineedit *le);
int lineedit_feed(struct lineedit *le, int c);
