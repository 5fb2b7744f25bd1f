/* Facts of network interfaces: getifaddrs(3) (the daemon's network
 * namespace) for names, flags, hardware and IP addresses; the MTU from
 * /sys/class/net/NAME/mtu. Interfaces come in getifaddrs's order (its
 * AF_PACKET entries come first, by index). */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/facts_read.h"

/* The interface called @p name in @p r, added if new; NULL when out of
 * memory or past GXD_FACTS_IF_MAX. */
static Gexec__V1__FactsInterface *find_or_add(Gexec__V1__FactsResponse *r,
                                              const char *name) {
  for (size_t i = 0; i < r->n_interfaces; i++)
    if (strcmp(r->interfaces[i]->name, name) == 0) return r->interfaces[i];
  if (r->n_interfaces >= GXD_FACTS_IF_MAX) return NULL;
  Gexec__V1__FactsInterface *f = malloc(sizeof *f);
  if (!f) return NULL;
  gexec__v1__facts_interface__init(f);
  f->addresses = calloc(GXD_FACTS_ADDR_MAX, sizeof *f->addresses);
  if (!f->addresses || gxd_facts_set(&f->name, name) != 0) {
    gexec__v1__facts_interface__free_unpacked(f, NULL);
    return NULL;
  }
  r->interfaces[r->n_interfaces++] = f;
  return f;
}

static int set_mac(Gexec__V1__FactsInterface *f, const struct sockaddr_ll *l) {
  char out[3 * sizeof l->sll_addr + 1] = "";
  size_t n = l->sll_halen < sizeof l->sll_addr ? l->sll_halen
                                                 : sizeof l->sll_addr;
  size_t w = 0;
  for (size_t i = 0; i < n && w + 3 < sizeof out; i++)
    w += (size_t)snprintf(out + w, sizeof out - w, i ? ":%02x" : "%02x",
                          l->sll_addr[i]);
  return gxd_facts_set(&f->mac, out);
}

static uint32_t prefix_bits(const unsigned char *mask, size_t len) {
  uint32_t bits = 0;
  for (size_t i = 0; i < len; i++)
    for (unsigned char b = mask[i]; b; b = (unsigned char)(b << 1)) bits++;
  return bits;
}

static int add_address(Gexec__V1__FactsInterface *f, const struct ifaddrs *a) {
  char text[INET6_ADDRSTRLEN];
  int v6 = a->ifa_addr->sa_family == AF_INET6;
  const void *ip =
      v6 ? (const void *)&((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr
         : (const void *)&((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
  if (f->n_addresses >= GXD_FACTS_ADDR_MAX ||
      !inet_ntop(a->ifa_addr->sa_family, ip, text, sizeof text))
    return 0;
  Gexec__V1__FactsAddress *x = malloc(sizeof *x);
  if (!x) return -1;
  gexec__v1__facts_address__init(x);
  f->addresses[f->n_addresses++] = x;
  if (a->ifa_netmask && v6)
    x->prefix_length = prefix_bits(
        ((const struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr.s6_addr, 16);
  else if (a->ifa_netmask)
    x->prefix_length = prefix_bits(
        (const unsigned char *)&((const struct sockaddr_in *)a->ifa_netmask)
            ->sin_addr,
        4);
  if (gxd_facts_set(&x->address, text) != 0) return -1;
  return gxd_facts_set(&x->family, v6 ? "inet6" : "inet");
}

/* The MTU of @p name from /sys/class/net; 0 if unreadable. The name is
 * the kernel's, checked anyway before it becomes a path. */
static uint32_t read_mtu(const char *root, const char *name) {
  char rel[64];
  if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0 || strlen(name) >= IF_NAMESIZE)
    return 0;
  snprintf(rel, sizeof rel, "/sys/class/net/%s/mtu", name);
  char *s = gxd_facts_read_line(root, rel);
  uint32_t mtu = s ? (uint32_t)strtoul(s, NULL, 10) : 0;
  free(s);
  return mtu;
}

static int add_entry(const char *root, const struct ifaddrs *a,
                     Gexec__V1__FactsResponse *r) {
  if (!a->ifa_name) return 0;
  Gexec__V1__FactsInterface *f = find_or_add(r, a->ifa_name);
  if (!f) return r->n_interfaces >= GXD_FACTS_IF_MAX ? 0 : -1;
  if (!f->mtu) f->mtu = read_mtu(root, a->ifa_name);
  f->up = (a->ifa_flags & IFF_UP) != 0;
  if (!a->ifa_addr) return 0;
  switch (a->ifa_addr->sa_family) {
    case AF_PACKET:
      return set_mac(f, (const struct sockaddr_ll *)a->ifa_addr);
    case AF_INET:
    case AF_INET6:
      return add_address(f, a);
    default:
      return 0;
  }
}

int gxd_facts_interfaces(const char *root, Gexec__V1__FactsResponse *r) {
  struct ifaddrs *all;
  if (getifaddrs(&all) != 0) return -1;
  size_t n = 0;
  for (struct ifaddrs *a = all; a; a = a->ifa_next) n++;
  if (n > GXD_FACTS_IF_MAX) n = GXD_FACTS_IF_MAX;
  r->interfaces = calloc(n ? n : 1, sizeof *r->interfaces);
  int rc = r->interfaces ? 0 : -1;
  for (struct ifaddrs *a = all; a && rc == 0; a = a->ifa_next)
    rc = add_entry(root, a, r);
  freeifaddrs(all);
  return rc;
}
