/* Per-connection and per-identity accounting; see guard.h.
 *
 * Entries live in one chained hash table, keyed by (kind, key): a
 * connection and an identity with the same name are different entries.
 * Tokens are counted in thousandths so that refills stay exact in
 * integers; the time a refill used is what moves the bucket's clock, so
 * frequent small refills lose nothing to rounding. */
#include "server/guard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define MILLI 1000
/* A full table whose sweep freed nothing is not swept again before. */
#define SWEEP_GAP_NS (100ull * 1000000ull)
/* Refill gaps are capped (an idle bucket is full long before). */
#define MAX_GAP_NS (1ull << 40)

typedef enum { K_CONN, K_IDENTITY } entry_kind;

typedef struct entry {
  struct entry *next; /* hash chain */
  uint64_t hash;
  entry_kind kind;
  uint32_t pending; /* streams waiting for start (conn and identity) */
  uint32_t runs;    /* identity: its runs */
  int cut;          /* conn: condemned */
  int64_t tokens;   /* conn: thousandths, -burst..burst */
  uint64_t refill_ns; /* conn: the bucket's clock */
  uint64_t seen_ns;   /* conn: last stream (for a condemned one) */
  char *tag;          /* gxd_guard_set_tag, or NULL */
  size_t klen;
  char key[]; /* klen bytes and a NUL */
} entry;

struct gxd_guard {
  gxd_guard_limits lim;
  entry **buckets;
  size_t nbuckets; /* a power of two */
  size_t nentries;
  size_t runs;
  uint64_t seed;
  uint64_t no_sweep_until; /* see SWEEP_GAP_NS */
};

/* ------------------------------------------------------------- table */

static uint64_t hash_key(const gxd_guard *g, entry_kind k, const char *key,
                         size_t len) {
  uint64_t h = 0xcbf29ce484222325ull ^ g->seed; /* FNV-1a, seeded */
  h = (h ^ (uint64_t)k) * 0x100000001b3ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static entry **chain_of(const gxd_guard *g, uint64_t h) {
  return &g->buckets[h & (g->nbuckets - 1)];
}

static entry *find(const gxd_guard *g, entry_kind k, const char *key) {
  size_t len = strnlen(key, GXD_GUARD_KEY_MAX + 1);
  if (len > GXD_GUARD_KEY_MAX) return NULL;
  uint64_t h = hash_key(g, k, key, len);
  for (entry *e = *chain_of(g, h); e; e = e->next)
    if (e->hash == h && e->kind == k && e->klen == len &&
        memcmp(e->key, key, len) == 0)
      return e;
  return NULL;
}

static int64_t full_bucket(const gxd_guard *g) {
  return (int64_t)g->lim.stream_burst * MILLI;
}

/* Tops up @p e's bucket for the time since its clock. */
static void refill(const gxd_guard *g, entry *e, uint64_t now) {
  uint64_t rate = g->lim.stream_rate;
  if (e->kind != K_CONN || rate == 0 || now <= e->refill_ns) return;
  uint64_t gap = now - e->refill_ns;
  if (gap > MAX_GAP_NS) gap = MAX_GAP_NS;
  uint64_t add = gap * rate / 1000000u; /* thousandths */
  if (e->tokens + (int64_t)add >= full_bucket(g)) {
    e->tokens = full_bucket(g);
    e->refill_ns = now;
    return;
  }
  e->tokens += (int64_t)add;
  e->refill_ns += add * 1000000u / rate; /* the time those tokens took */
}

/* Whether @p e holds nothing worth keeping at @p now. */
static int idle(const gxd_guard *g, entry *e, uint64_t now) {
  if (e->pending || e->runs) return 0;
  if (e->kind == K_IDENTITY) return 1;
  if (e->cut) return now >= e->seen_ns + GXD_GUARD_CUT_LINGER_NS;
  refill(g, e, now);
  return e->tokens >= full_bucket(g);
}

static void unlink_free(gxd_guard *g, entry *e) {
  entry **p = chain_of(g, e->hash);
  while (*p != e) p = &(*p)->next;
  *p = e->next;
  free(e->tag);
  free(e);
  g->nentries--;
}

/* Frees @p e if it holds nothing (time-independent checks only). */
static void release_if_empty(gxd_guard *g, entry *e) {
  if (e->pending || e->runs) return;
  if (e->kind == K_CONN && (e->cut || e->tokens < full_bucket(g))) return;
  unlink_free(g, e);
}

/* Finds or adds the entry (@p k, @p key); NULL when the key is too long
 * or the table is full even after a sweep. */
static entry *get(gxd_guard *g, entry_kind k, const char *key, uint64_t now) {
  entry *e = find(g, k, key);
  if (e) return e;
  size_t len = strnlen(key, GXD_GUARD_KEY_MAX + 1);
  if (len > GXD_GUARD_KEY_MAX) return NULL;
  if (g->nentries >= g->lim.max_entries) {
    if (now < g->no_sweep_until) return NULL;
    gxd_guard_sweep(g, now);
    if (g->nentries >= g->lim.max_entries) {
      g->no_sweep_until = now + SWEEP_GAP_NS;
      return NULL;
    }
  }
  e = calloc(1, sizeof *e + len + 1);
  if (!e) return NULL;
  e->kind = k;
  e->hash = hash_key(g, k, key, len);
  e->klen = len;
  memcpy(e->key, key, len);
  e->tokens = full_bucket(g);
  e->refill_ns = e->seen_ns = now;
  entry **chain = chain_of(g, e->hash);
  e->next = *chain;
  *chain = e;
  g->nentries++;
  return e;
}

/* ------------------------------------------------------------- public */

int gxd_guard_new(const gxd_guard_limits *l, gxd_guard **out) {
  gxd_guard *g = calloc(1, sizeof *g);
  if (!g) return -1;
  g->lim = *l;
  if (!g->lim.max_entries) g->lim.max_entries = GXD_GUARD_ENTRIES_DEFAULT;
  g->nbuckets = 64;
  while (g->nbuckets < g->lim.max_entries / 4 && g->nbuckets < (1u << 20))
    g->nbuckets *= 2;
  g->buckets = calloc(g->nbuckets, sizeof *g->buckets);
  if (!g->buckets) {
    free(g);
    return -1;
  }
  if (getrandom(&g->seed, sizeof g->seed, GRND_NONBLOCK) != sizeof g->seed)
    g->seed = (uint64_t)(uintptr_t)g; /* some variety, if no entropy */
  *out = g;
  return 0;
}

void gxd_guard_free(gxd_guard *g) {
  if (!g) return;
  for (size_t i = 0; i < g->nbuckets; i++) {
    entry *e = g->buckets[i];
    while (e) {
      entry *next = e->next;
      free(e->tag);
      free(e);
      e = next;
    }
  }
  free(g->buckets);
  free(g);
}

gxd_guard_verdict gxd_guard_stream(gxd_guard *g, const char *conn,
                                   uint64_t now_ns) {
  if (g->lim.stream_burst == 0) return GXD_GUARD_OK;
  entry *e = get(g, K_CONN, conn, now_ns);
  if (!e) return GXD_GUARD_FULL;
  e->seen_ns = now_ns;
  if (e->cut) return GXD_GUARD_CUT;
  refill(g, e, now_ns);
  e->tokens -= MILLI;
  if (e->tokens >= 0) return GXD_GUARD_OK;
  uint32_t debt = g->lim.stream_debt ? g->lim.stream_debt
                                      : g->lim.stream_burst;
  if (e->tokens > -(int64_t)debt * MILLI) return GXD_GUARD_RATE;
  e->cut = 1;
  return GXD_GUARD_CUT;
}

int gxd_guard_is_cut(const gxd_guard *g, const char *conn) {
  const entry *e = find(g, K_CONN, conn);
  return e && e->cut;
}

int gxd_guard_set_tag(gxd_guard *g, const char *conn, const char *tag) {
  entry *e = find(g, K_CONN, conn);
  if (!e) return -1;
  if (!e->tag) e->tag = strndup(tag, GXD_GUARD_KEY_MAX);
  return e->tag ? 0 : -1;
}

int gxd_guard_take_tag(gxd_guard *g, const char *conn, char *out,
                       size_t len) {
  entry *e = find(g, K_CONN, conn);
  if (!e || !e->tag) return -1;
  snprintf(out, len, "%s", e->tag);
  e->tag[0] = '\0';
  return 0;
}

gxd_guard_verdict gxd_guard_open(gxd_guard *g, const char *conn,
                                 const char *identity, uint64_t now_ns,
                                 gxd_guard_slot *slot) {
  entry *c = get(g, K_CONN, conn, now_ns);
  if (!c) return GXD_GUARD_FULL;
  if (g->lim.max_conn_pending && c->pending >= g->lim.max_conn_pending) {
    release_if_empty(g, c);
    return GXD_GUARD_PENDING;
  }
  entry *id = get(g, K_IDENTITY, identity, now_ns);
  if (!id) {
    release_if_empty(g, c);
    return GXD_GUARD_FULL;
  }
  c->pending++;
  id->pending++;
  slot->conn = c;
  slot->identity = id;
  slot->state = 1;
  return GXD_GUARD_OK;
}

gxd_guard_verdict gxd_guard_start(gxd_guard *g, gxd_guard_slot *slot) {
  if (slot->state != 1) return GXD_GUARD_OK;
  entry *c = slot->conn, *id = slot->identity;
  if (g->lim.max_runs && g->runs >= g->lim.max_runs)
    return GXD_GUARD_SESSIONS;
  if (g->lim.max_identity_runs && id->runs >= g->lim.max_identity_runs)
    return GXD_GUARD_IDENTITY;
  c->pending--;
  id->pending--;
  id->runs++;
  g->runs++;
  release_if_empty(g, c);
  slot->conn = NULL;
  slot->state = 2;
  return GXD_GUARD_OK;
}

void gxd_guard_close(gxd_guard *g, gxd_guard_slot *slot) {
  entry *id = slot->identity;
  if (slot->state == 1) {
    entry *c = slot->conn;
    c->pending--;
    id->pending--;
    release_if_empty(g, c);
  } else if (slot->state == 2) {
    id->runs--;
    g->runs--;
  }
  if (id) release_if_empty(g, id);
  memset(slot, 0, sizeof *slot);
}

void gxd_guard_sweep(gxd_guard *g, uint64_t now_ns) {
  for (size_t i = 0; i < g->nbuckets; i++) {
    entry **p = &g->buckets[i];
    while (*p) {
      entry *e = *p;
      if (idle(g, e, now_ns)) {
        *p = e->next;
        free(e->tag);
        free(e);
        g->nentries--;
      } else {
        p = &e->next;
      }
    }
  }
}

size_t gxd_guard_entries(const gxd_guard *g) { return g->nentries; }

size_t gxd_guard_runs(const gxd_guard *g) { return g->runs; }

const char *gxd_guard_reason(gxd_guard_verdict v) {
  switch (v) {
    case GXD_GUARD_OK: return "admitted";
    case GXD_GUARD_SESSIONS: return "gexecd is at its session limit";
    case GXD_GUARD_IDENTITY:
      return "this caller holds its share of the session slots";
    case GXD_GUARD_PENDING:
      return "too many streams on this connection are waiting to send "
             "their start message";
    case GXD_GUARD_RATE:
      return "this connection opens new streams too fast";
    case GXD_GUARD_CUT:
      return "this connection kept opening streams far over the rate "
             "and was cut off";
    case GXD_GUARD_FULL: return "gexecd tracks too many connections";
  }
  return "refused";
}

char *gxd_guard_describe(const gxd_guard *g, gxd_guard_verdict v, char *buf,
                         size_t len) {
  uint32_t n = v == GXD_GUARD_SESSIONS   ? g->lim.max_runs
               : v == GXD_GUARD_IDENTITY ? g->lim.max_identity_runs
               : v == GXD_GUARD_PENDING  ? g->lim.max_conn_pending
               : v == GXD_GUARD_RATE     ? g->lim.stream_rate
                                         : 0;
  const char *unit = v == GXD_GUARD_PENDING ? " stream"
                     : v == GXD_GUARD_RATE  ? " a second"
                                            : " run";
  const char *plural = n != 1 && v != GXD_GUARD_RATE ? "s" : "";
  if (v == GXD_GUARD_OK || v == GXD_GUARD_CUT || v == GXD_GUARD_FULL || !n)
    snprintf(buf, len, "%s", gxd_guard_reason(v));
  else
    snprintf(buf, len, "%s (%u%s%s); retry later", gxd_guard_reason(v), n,
             unit, plural);
  return buf;
}
