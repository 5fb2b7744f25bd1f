"""gRPC and its dependencies linked statically, for the gexec CLI only.

The CLI is a short-lived process whose start-up cost people feel on every
`gexec run`. Linked dynamically it loads 57 shared objects (gRPC is C++
with Abseil, RE2, upb, OpenSSL, c-ares, ...), and the dynamic loader's
symbol lookups and relocations cost ~5 ms before main(). Debian ships the
.a of every one of them (libgrpc-dev pulls in the -dev packages that hold
them), so the CLI links them into the binary; only libc, libm and libuv
(Debian ships no libuv.a) stay shared. gexecd, the tests, the benchmarks
and libgexec keep linking dynamically through //third_party:grpc.

Use it as the `linkopts` of a cc_binary, not through a cc_library:
Bazel puts a binary's own linkopts right after its object files and
before every dependency's (//lib:rpc's -lgrpc -lgpr among them), whereas
a wrapper library's flags land wherever the topological order of the
deps puts them, after -lgrpc if it is listed last. The archives must come
first: the linker then takes every gRPC symbol from them, and the
`--as-needed` that closes the group drops the libgrpc.so / libgpr.so /
libprotobuf-c.so / libjson-c.so named later, which nothing needs any
more. tests/client/cli:static_link_test checks the result with readelf.

The list is `pkg-config --static --libs grpc` on Debian 12 (gRPC 1.51.1,
Abseil 20220623), plus protobuf-c and json-c (the CLI's own), with
libstdc++ and libgcc linked statically as well (each shared library
costs ~0.1-0.4 ms at start-up). The group lets the archives refer to
each other in any order.

Under --config=tsan (which sets --define=gexec_grpc=dynamic) the CLI
links gRPC dynamically like everything else: tests/tsan.supp silences
the uninstrumented gRPC by shared-library name (called_from_lib:), which
cannot match code linked into the executable.
"""

_ABSL = [
    "bad_optional_access",
    "bad_variant_access",
    "base",
    "city",
    "civil_time",
    "cord",
    "cord_internal",
    "cordz_functions",
    "cordz_handle",
    "cordz_info",
    "debugging_internal",
    "demangle_internal",
    "exponential_biased",
    "graphcycles_internal",
    "hash",
    "hashtablez_sampler",
    "int128",
    "log_severity",
    "low_level_hash",
    "malloc_internal",
    "random_distributions",
    "random_internal_platform",
    "random_internal_pool_urbg",
    "random_internal_randen",
    "random_internal_randen_hwaes",
    "random_internal_randen_hwaes_impl",
    "random_internal_randen_slow",
    "random_internal_seed_material",
    "random_seed_gen_exception",
    "random_seed_sequences",
    "raw_hash_set",
    "raw_logging_internal",
    "spinlock_wait",
    "stacktrace",
    "status",
    "statusor",
    "str_format_internal",
    "strerror",
    "strings",
    "strings_internal",
    "symbolize",
    "synchronization",
    "throw_delegate",
    "time",
    "time_zone",
]

_STATIC = [
    "grpc",
    "gpr",
    "upb",
    "address_sorting",
    "re2",
    "cares",
    "z",
    "ssl",
    "crypto",
    "protobuf-c",
    "json-c",
    ":libstdc++.a",
] + ["absl_" + a for a in _ABSL]

_STATIC_LINKOPTS = (
    ["-Wl,-Bstatic", "-Wl,--start-group"] +
    ["-l" + lib for lib in _STATIC] +
    ["-Wl,--end-group", "-Wl,-Bdynamic", "-static-libgcc", "-Wl,--as-needed"] +
    # What the archives need from shared system libraries (glibc 2.36
    # has dl and rt in libc: --as-needed drops those two).
    ["-lm", "-ldl", "-lrt", "-latomic", "-lpthread"]
)

# The linkopts of a cc_binary that links //lib:rpc with gRPC static.
GRPC_STATIC_LINKOPTS = select({
    "//third_party:grpc_dynamic": [],
    "//conditions:default": _STATIC_LINKOPTS,
})
