//! The `fawkes-portal` binary: everything lives in the library; this only hands over to the CLI.

/// jemalloc instead of glibc's allocator: glibc gives every thread that allocates (the runtime's,
/// the blocking pool's, each SQLite connection's) an arena of its own and keeps what they free,
/// so ingesting 50,000 entities and then streaming the whole catalog peaked near 300 MB;
/// jemalloc returns freed pages to the system. It serves the C code linked in too (SQLite's page
/// caches and statements: the `unprefixed_malloc_on_supported_platforms` feature), so one
/// allocator holds and returns all of it. Its options are set when it is built
/// (`JEMALLOC_SYS_WITH_MALLOC_CONF` in `.cargo/config.toml`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    fawkes_portal::cli::main()
}
