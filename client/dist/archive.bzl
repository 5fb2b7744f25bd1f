"""cc_merged_library: all of a C library's own code as one object.

Bazel's cc_library archive holds only that target's own srcs, and a
cc_binary with linkshared = 1 takes from its deps only the objects that
something references. An installed libgexec needs every object libgexec
is made of, in libgexec.a as in libgexec.so. This rule walks the CcInfo
of `deps` (their whole transitive linking context, so a new dependency of
//client:libgexec is picked up without editing this package) and collects
each library's PIC object files: an archive users may link into a PIE
executable or into a shared object of their own. (Bazel compiles PIC
objects in every compilation mode for a library that has srcs, as its
cc_library also yields a shared object; the rule fails if one has none.)
Targets that only carry link flags (//third_party:grpc and the like)
contribute no objects: their libraries stay dependencies of the installed
library (libgexec.pc's Requires.private / Libs.private).

The objects are prelinked into one relocatable object (`ld -r`) in which
every global symbol except those matching `keep` is made local (`objcopy
--keep-global-symbol`), and that object is archived (`ar`), so
libgexec.a exports what libgexec.so's version script exports and nothing
else: a program that links libgexec.a and has its own gx_* code, or its
own protobuf-c code for grpc.health.v1, gets no clash.

Outputs: `out` (the archive, the target's default output) and
<name>.o (the object). Provides CcInfo: the object, always linked whole
(alwayslink), with the link flags of `deps` (the system libraries), so
that a cc_binary with linkshared = 1 depending on this target links every
object.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _pic_objects(linker_inputs):
    seen = {}
    out = []
    for linker_input in linker_inputs:
        for lib in linker_input.libraries:
            objects = lib.pic_objects or []
            if lib.objects and not objects:
                fail("%s has no PIC objects" % linker_input.owner)
            for obj in objects:
                if obj.path not in seen:
                    seen[obj.path] = True
                    out.append(obj)
    return out

def _prelink(ctx, cc_toolchain, objects, obj, archive):
    args = ctx.actions.args()
    args.add(cc_toolchain.ld_executable)
    args.add(cc_toolchain.objcopy_executable)
    args.add(cc_toolchain.ar_executable)
    args.add(ctx.attr.keep)
    args.add(obj)
    args.add(archive)
    args.add_all(objects)
    ctx.actions.run_shell(
        outputs = [obj, archive],
        inputs = depset(objects, transitive = [cc_toolchain.all_files]),
        arguments = [args],
        command = """set -eu
ld=$1 objcopy=$2 ar=$3 keep=$4 obj=$5 archive=$6
shift 6
"$ld" -r -o "$obj" "$@"
"$objcopy" --wildcard --keep-global-symbol="$keep" "$obj"
rm -f "$archive"
"$ar" rcsD "$archive" "$obj"
""",
        mnemonic = "CcMergedLibrary",
        progress_message = "Merging the objects of %s" % ctx.label,
    )

def _cc_info(ctx, cc_toolchain, linker_inputs, archive):
    features = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    lib = cc_common.create_library_to_link(
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        pic_static_library = archive,
        alwayslink = True,
    )
    flags = []
    for linker_input in linker_inputs:
        flags.extend(linker_input.user_link_flags)
    linker_input = cc_common.create_linker_input(
        owner = ctx.label,
        libraries = depset([lib]),
        user_link_flags = depset(flags),
    )
    return CcInfo(linking_context = cc_common.create_linking_context(
        linker_inputs = depset([linker_input]),
    ))

def _impl(ctx):
    cc_toolchain = find_cpp_toolchain(ctx)
    linker_inputs = depset(transitive = [
        dep[CcInfo].linking_context.linker_inputs
        for dep in ctx.attr.deps
    ]).to_list()
    objects = _pic_objects(linker_inputs)
    if not objects:
        fail("no object files found in the deps of %s" % ctx.label)
    archive = ctx.actions.declare_file(ctx.attr.out)
    obj = ctx.actions.declare_file(ctx.label.name + ".o")
    _prelink(ctx, cc_toolchain, objects, obj, archive)
    return [
        DefaultInfo(files = depset([archive])),
        OutputGroupInfo(object = depset([obj])),
        _cc_info(ctx, cc_toolchain, linker_inputs, archive),
    ]

cc_merged_library = rule(
    implementation = _impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo], mandatory = True),
        "out": attr.string(mandatory = True, doc = "the archive's name"),
        "keep": attr.string(
            mandatory = True,
            doc = "objcopy wildcard of the global symbols to keep global",
        ),
        "_cc_toolchain": attr.label(
            default = "@bazel_tools//tools/cpp:current_cc_toolchain",
        ),
    },
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    fragments = ["cpp"],
    incompatible_use_toolchain_transition = True,
)
