//! The `fawkes-portal` binary: everything lives in the library; this only hands over to the CLI.

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    fawkes_portal::cli::main()
}

/// glibc gives each thread that allocates its own heap arena (up to eight per core) and seldom
/// returns their memory: a catalog ingestion of 50,000 entities peaked at 303 MB resident with the
/// default and 247 MB with two arenas, at the same speed (`scripts/catalog-load`). Set before any
/// thread starts; `MALLOC_ARENA_MAX` in the environment still wins.
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
