"""without_tsan_binary: a binary built without ThreadSanitizer.

Under --config=tsan (.bazelrc), which adds -fsanitize=thread to every
compile and link, this rule builds its `binary` in a configuration with
that flag removed and puts the result at its own label's path. Other
flags, ASan's included, are kept. Outside --config=tsan it changes
nothing: the binary is the one of the current configuration.

For single-threaded programs whose correctness depends on prompt signal
delivery (gexec-launch): TSan can find no race in one thread, but its
runtime defers an asynchronous signal until the thread next enters an
intercepted function, so a handler due while the program waits in
waitpid() (restarted by SA_RESTART) runs only after waitpid returns.
"""

_TSAN = "-fsanitize=thread"

def _strip_tsan(settings, attr):
    _ignore = attr
    return {
        "//command_line_option:copt": [
            f
            for f in settings["//command_line_option:copt"]
            if f != _TSAN
        ],
        "//command_line_option:linkopt": [
            f
            for f in settings["//command_line_option:linkopt"]
            if f != _TSAN
        ],
    }

_without_tsan = transition(
    implementation = _strip_tsan,
    inputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
    outputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
    ],
)

def _impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = binary, is_executable = True)
    return [DefaultInfo(
        executable = out,
        files = depset([out]),
        runfiles = ctx.runfiles(files = [out, binary]),
    )]

without_tsan_binary = rule(
    implementation = _impl,
    attrs = {
        "binary": attr.label(
            cfg = _without_tsan,
            executable = True,
            mandatory = True,
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    executable = True,
)
