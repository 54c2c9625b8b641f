/*
 * Description: intrusive circular doubly linked lists, as in Linux. A struct that
 * wants to be on a list embeds a `struct list_node`; list_entry() gets the struct
 * back. A list head is a node that points to itself when the list is empty.
 * Callers provide the locking.
 */
#pragma once

#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

#define list_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

static inline void list_init(struct list_node *head) { head->prev = head->next = head; }
static inline int list_empty(const struct list_node *head) { return head->next == head; }

static inline void list_insert_between(struct list_node *n, struct list_node *prev,
                                       struct list_node *next)
{
    n->prev = prev;
    n->next = next;
    prev->next = n;
    next->prev = n;
}

/* Adds n at the front (after head) or at the back (before head). */
static inline void list_push_front(struct list_node *head, struct list_node *n)
{
    list_insert_between(n, head, head->next);
}
static inline void list_push_back(struct list_node *head, struct list_node *n)
{
    list_insert_between(n, head->prev, head);
}

static inline void list_remove(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* Removes and returns the first node, or NULL if the list is empty. */
static inline struct list_node *list_pop_front(struct list_node *head)
{
    if (list_empty(head))
        return NULL;
    struct list_node *n = head->next;
    list_remove(n);
    return n;
}

#define list_for_each(pos, head) for (pos = (head)->next; pos != (head); pos = pos->next)
