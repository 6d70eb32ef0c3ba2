//! The `quire` binary: parse the command line, hand over to the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages for this process: mimalloc commits its arenas eagerly and
    // marks them for huge pages, so a few live objects pinned whole 2 MiB pages (RSS after
    // the bench's load 41 MiB with them, 31 MiB without; throughput the same).
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    // Freed memory goes back to the system at once rather than 10 ms later on the next
    // allocation: after a burst of load an idle server otherwise keeps what it last freed
    // (RSS after the bench's load 39–40 MiB with the delay, 36 without; throughput the same).
    // MIMALLOC_PURGE_DELAY in the environment still decides, as mimalloc documents.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set takes plain integers; 15 is `mi_option_purge_delay` in the
        // mimalloc (v3) header that libmimalloc-sys builds (its Rust bindings name no constant).
        unsafe {
            mi_option_set(15, 0);
        }
    }
    quire::cli::run()
}

// mimalloc's own symbol, linked in by the `mimalloc` crate.
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
