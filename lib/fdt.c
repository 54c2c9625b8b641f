/*
 * Description: flattened device tree reader (see fdt.h). The format is in the
 * Devicetree Specification, chapter 5: a header, a memory reservation block, a
 * structure block of 32-bit big-endian tokens, and a strings block.
 */
#include "lib/fdt.h"

#include "lib/string.h"

#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

uint64_t fdt_cells(const void *p, int cells)
{
    uint64_t v = 0;
    for (int i = 0; i < cells; i++)
        v = v << 32 | be32((const uint8_t *)p + 4 * i);
    return v;
}

int fdt_open(struct fdt *fdt, const void *blob, const char **why)
{
    const uint8_t *b = blob;
    if (!blob || ((uintptr_t)blob & 3)) {
        *why = "no device tree address, or not 4-byte aligned";
        return -1;
    }
    if (be32(b) != FDT_MAGIC) {
        *why = "bad magic (not a device tree blob)";
        return -1;
    }
    uint32_t total = be32(b + 4), off_struct = be32(b + 8), off_strings = be32(b + 12);
    uint32_t off_rsv = be32(b + 16), version = be32(b + 20);
    uint32_t size_strings = be32(b + 32), size_struct = be32(b + 36);
    if (version < 17) {
        *why = "device tree version older than 17";
        return -1;
    }
    if (off_struct > total || size_struct > total - off_struct || off_strings > total ||
        size_strings > total - off_strings || off_rsv > total) {
        *why = "header sizes point outside the blob";
        return -1;
    }
    fdt->blob = b;
    fdt->totalsize = total;
    fdt->structs = b + off_struct;
    fdt->structs_size = size_struct;
    fdt->strings = (const char *)b + off_strings;
    fdt->strings_size = size_strings;
    fdt->memreserve = b + off_rsv;
    return 0;
}

/* The token at structure offset off, or FDT_END if off is outside the block. */
static uint32_t token_at(const struct fdt *fdt, int off)
{
    if (off < 0 || (uint32_t)off + 4 > fdt->structs_size)
        return FDT_END;
    return be32(fdt->structs + off);
}

static int align4(int off) { return (off + 3) & ~3; }

/* Offset just past a node's BEGIN_NODE token and name, or -1. */
static int after_name(const struct fdt *fdt, int node)
{
    if (token_at(fdt, node) != FDT_BEGIN_NODE)
        return -1;
    const char *name = (const char *)fdt->structs + node + 4;
    size_t max = fdt->structs_size - (node + 4);
    size_t len = strnlen(name, max);
    if (len == max)
        return -1;
    return align4(node + 4 + (int)len + 1);
}

/* Offset just past a PROP token's value, or -1. */
static int after_prop(const struct fdt *fdt, int off)
{
    if ((uint32_t)off + 12 > fdt->structs_size)
        return -1;
    uint32_t len = be32(fdt->structs + off + 4);
    if (len > fdt->structs_size - (off + 12))
        return -1;
    return align4(off + 12 + (int)len);
}

/* Skips properties and NOPs from off; returns the next offset holding another token. */
static int skip_props(const struct fdt *fdt, int off)
{
    for (;;) {
        uint32_t tok = token_at(fdt, off);
        if (tok == FDT_PROP)
            off = after_prop(fdt, off);
        else if (tok == FDT_NOP)
            off += 4;
        else
            return off;
        if (off < 0)
            return -1;
    }
}

int fdt_next_node(const struct fdt *fdt, int node, int *depth)
{
    int off = after_name(fdt, node);
    while (off >= 0) {
        off = skip_props(fdt, off);
        uint32_t tok = token_at(fdt, off);
        if (tok == FDT_BEGIN_NODE) {
            (*depth)++;
            return off;
        } else if (tok == FDT_END_NODE) {
            (*depth)--;
            off += 4;
        } else {
            return -1; /* FDT_END or garbage */
        }
    }
    return -1;
}

int fdt_first_child(const struct fdt *fdt, int node)
{
    int off = after_name(fdt, node);
    if (off < 0)
        return -1;
    off = skip_props(fdt, off);
    return token_at(fdt, off) == FDT_BEGIN_NODE ? off : -1;
}

int fdt_next_sibling(const struct fdt *fdt, int node)
{
    int depth = 0;
    int off = node;
    do {
        off = fdt_next_node(fdt, off, &depth);
    } while (off >= 0 && depth > 0);
    return (off >= 0 && depth == 0) ? off : -1;
}

const char *fdt_node_name(const struct fdt *fdt, int node)
{
    if (after_name(fdt, node) < 0)
        return "";
    return (const char *)fdt->structs + node + 4;
}

/* Does a node name ("memory@80000000") match a path component ("memory")? The
 * component is comp[0..len): the rest of the path does not count. */
static int name_matches(const char *name, const char *comp, size_t len)
{
    if (strncmp(name, comp, len) != 0)
        return 0;
    int comp_has_unit = 0;
    for (size_t i = 0; i < len; i++)
        comp_has_unit |= comp[i] == '@';
    return name[len] == '\0' || (name[len] == '@' && !comp_has_unit);
}

int fdt_path(const struct fdt *fdt, const char *path)
{
    int node = 0;
    if (*path != '/')
        return -1;
    while (*path == '/')
        path++;
    while (*path && node >= 0) {
        size_t len = 0;
        while (path[len] && path[len] != '/')
            len++;
        int child = fdt_first_child(fdt, node);
        while (child >= 0 && !name_matches(fdt_node_name(fdt, child), path, len))
            child = fdt_next_sibling(fdt, child);
        node = child;
        path += len;
        while (*path == '/')
            path++;
    }
    return node;
}

const void *fdt_prop(const struct fdt *fdt, int node, const char *name, int *len)
{
    int off = after_name(fdt, node);
    while (off >= 0) {
        uint32_t tok = token_at(fdt, off);
        if (tok == FDT_NOP) {
            off += 4;
            continue;
        }
        if (tok != FDT_PROP)
            return NULL;
        int next = after_prop(fdt, off);
        if (next < 0)
            return NULL;
        /* The name must end with its NUL inside the strings block: one cut off by the
         * block's end is not a name, even if what is left is a prefix of `name`. */
        uint32_t nameoff = be32(fdt->structs + off + 8);
        if (nameoff < fdt->strings_size &&
            strnlen(fdt->strings + nameoff, fdt->strings_size - nameoff) <
                fdt->strings_size - nameoff &&
            strcmp(fdt->strings + nameoff, name) == 0) {
            if (len)
                *len = (int)be32(fdt->structs + off + 4);
            return fdt->structs + off + 12;
        }
        off = next;
    }
    return NULL;
}

int fdt_prop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *out)
{
    int len;
    const void *p = fdt_prop(fdt, node, name, &len);
    if (!p || len != 4)
        return -1;
    *out = be32(p);
    return 0;
}

int fdt_is_compatible(const struct fdt *fdt, int node, const char *compat)
{
    int len;
    const char *list = fdt_prop(fdt, node, "compatible", &len);
    if (!list)
        return 0;
    /* "compatible" is a list of NUL-terminated strings. */
    for (int i = 0; i < len;) {
        size_t n = strnlen(list + i, len - i);
        if (n == strlen(compat) && strncmp(list + i, compat, n) == 0)
            return 1;
        i += n + 1;
    }
    return 0;
}

void fdt_bus_cells(const struct fdt *fdt, int parent, int *addr_cells, int *size_cells)
{
    uint32_t v;
    *addr_cells = fdt_prop_u32(fdt, parent, "#address-cells", &v) == 0 ? (int)v : 2;
    *size_cells = fdt_prop_u32(fdt, parent, "#size-cells", &v) == 0 ? (int)v : 1;
}

int fdt_reg(const struct fdt *fdt, int node, int addr_cells, int size_cells, int index,
            uint64_t *addr, uint64_t *size)
{
    int len;
    const uint8_t *reg = fdt_prop(fdt, node, "reg", &len);
    int entry = 4 * (addr_cells + size_cells);
    if (!reg || addr_cells < 1 || addr_cells > 2 || size_cells < 0 || size_cells > 2 || index < 0 ||
        (index + 1) * entry > len)
        return -1;
    reg += index * entry;
    *addr = fdt_cells(reg, addr_cells);
    *size = size_cells ? fdt_cells(reg + 4 * addr_cells, size_cells) : 0;
    return 0;
}

int fdt_memreserve(const struct fdt *fdt, int index, uint64_t *addr, uint64_t *size)
{
    uint32_t off = (uint32_t)(fdt->memreserve - fdt->blob) + 16 * (uint32_t)index;
    if (off + 16 > fdt->totalsize)
        return -1;
    *addr = fdt_cells(fdt->blob + off, 2);
    *size = fdt_cells(fdt->blob + off + 8, 2);
    if (*addr == 0 && *size == 0)
        return -1; /* the block ends with an all-zero entry */
    return 0;
}
