/*
 * Description: a small reader for the flattened device tree (FDT, "DTB") that
 * OpenSBI hands the kernel in a1. It only reads; it never trusts the blob: every
 * offset is checked against the blob's own sizes, so a corrupt tree gives -1, not a
 * wild read.
 *
 * A node is named by the offset of its FDT_BEGIN_NODE token in the structure block
 * (the root is offset 0). Interface:
 *  - fdt_open: check the header and fill struct fdt
 *  - fdt_next_node / fdt_first_child / fdt_next_sibling: walk the tree
 *  - fdt_node_name, fdt_prop, fdt_prop_u32, fdt_prop_cells: read a node
 *  - fdt_path: find a node by an absolute path without unit addresses ("/cpus")
 *  - fdt_is_compatible: does the node's "compatible" list name this string
 *  - fdt_reg: the index-th (address, size) pair of "reg"
 *  - fdt_memreserve: the index-th entry of the memory reservation block
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FDT_MAGIC 0xd00dfeed

struct fdt {
    const uint8_t *blob;
    uint32_t totalsize;
    const uint8_t *structs; /* structure block */
    uint32_t structs_size;
    const char *strings; /* property names */
    uint32_t strings_size;
    const uint8_t *memreserve;
};

/* Returns 0, or -1 with *why set to a short reason (bad magic, bad version, ...). */
int fdt_open(struct fdt *fdt, const void *blob, const char **why);

int fdt_next_node(const struct fdt *fdt, int node, int *depth);
int fdt_first_child(const struct fdt *fdt, int node);
int fdt_next_sibling(const struct fdt *fdt, int node);
const char *fdt_node_name(const struct fdt *fdt, int node);
int fdt_path(const struct fdt *fdt, const char *path);

/* Returns the property's value and its length in *len, or NULL if absent. */
const void *fdt_prop(const struct fdt *fdt, int node, const char *name, int *len);
/* Reads a one-cell property; returns 0, or -1 if absent or not one cell long. */
int fdt_prop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *out);
/* Reads `cells` big-endian 32-bit cells starting at p as one number. */
uint64_t fdt_cells(const void *p, int cells);
int fdt_is_compatible(const struct fdt *fdt, int node, const char *compat);

/* #address-cells / #size-cells of `parent` (defaults 2 and 1, as the spec says). */
void fdt_bus_cells(const struct fdt *fdt, int parent, int *addr_cells, int *size_cells);
/* The index-th reg entry, decoded with the given cell counts. Returns 0 or -1. */
int fdt_reg(const struct fdt *fdt, int node, int addr_cells, int size_cells, int index,
            uint64_t *addr, uint64_t *size);
int fdt_memreserve(const struct fdt *fdt, int index, uint64_t *addr, uint64_t *size);
