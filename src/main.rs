//! The `scimreplay` binary: everything happens in the library.

fn main() -> std::process::ExitCode {
    scimreplay::cli::main()
}
