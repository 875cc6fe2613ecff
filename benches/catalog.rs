//! The catalog at 50,000 entities on SQLite, on this machine.
//!
//!     cargo bench --bench catalog            # CATALOG_BENCH_N=10000 for a smaller catalog
//!
//! 1. Generates a realistic catalog (Domains, Systems, Groups, Users, Resources, APIs, Components
//!    with owners, systems, APIs, dependencies, tags and labels; every ref resolvable) as files of
//!    1,000 documents listed by one root Location, registers it, and times ingestion.
//! 2. Serves the app on 127.0.0.1 and loads it over HTTP with 16 connections for a few seconds per
//!    query: `filter=metadata.name=<x>` and `by-query?limit=100` (throughput, p50, p99).
//! 3. Streams the full `GET /entities` once (time, bytes).
//! 4. The web UI's pages over the same catalog, one request at a time through a signed-in
//!    browser session: the time to the full page (p50, p95, and the first request, which builds
//!    what the others find kept) of the catalog index, a search, an entity page and its
//!    relations, and the home page.
//! 5. Idle CPU over 10 s with the refresh loop running, and peak resident memory.
//!
//! Client and server share the process and the two cores, so the server numbers are conservative.

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark: a failed unwrap ends the run"
)]

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fawkes_portal::app::App;
use fawkes_portal::auth::issuer::TokenSubject;
use fawkes_portal::config::Settings;

const CONNECTIONS: usize = 16;
const LOAD_SECONDS: u64 = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

fn n() -> usize {
    std::env::var("CATALOG_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

/// `(file name, YAML)` of the generated catalog, 1,000 documents per file; names for queries.
fn generate(n: usize) -> (Vec<(String, String)>, Vec<String>) {
    let mut docs = Vec::with_capacity(n);
    let count = |share: f64| ((n as f64 * share) as usize).max(1);
    let (domains, systems, groups, users, resources, apis) = (
        count(0.005),
        count(0.03),
        count(0.03),
        count(0.12),
        count(0.06),
        count(0.18),
    );
    let components = n - domains - systems - groups - users - resources - apis;
    let tags = [
        "java",
        "python",
        "go",
        "rust",
        "typescript",
        "frontend",
        "backend",
        "pci",
    ];
    let life = ["production", "production", "experimental", "deprecated"];
    for i in 0..domains {
        docs.push(format!("apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: domain-{i}\nspec:\n  owner: group-{}\n", i % groups));
    }
    for i in 0..systems {
        docs.push(format!("apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: system-{i}\n  description: System {i}\nspec:\n  owner: group-{}\n  domain: domain-{}\n", i % groups, i % domains));
    }
    for i in 0..groups {
        let parent = if i > 0 {
            format!("\n  parent: group-{}", (i - 1) / 4)
        } else {
            String::new()
        };
        docs.push(format!("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: group-{i}\nspec:\n  type: team\n  children: []{parent}\n"));
    }
    for i in 0..users {
        docs.push(format!("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-{i}\nspec:\n  profile:\n    displayName: User {i}\n    email: user-{i}@example.com\n  memberOf: [group-{}]\n", i % groups));
    }
    for i in 0..resources {
        docs.push(format!("apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: resource-{i}\nspec:\n  type: database\n  owner: group-{}\n  system: system-{}\n", i % groups, i % systems));
    }
    for i in 0..apis {
        docs.push(format!("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-{i}\n  tags: [{}]\nspec:\n  type: openapi\n  lifecycle: {}\n  owner: group-{}\n  system: system-{}\n  definition: |\n    openapi: 3.0.0\n    info: {{title: api-{i}, version: 1.0.0}}\n", tags[i % tags.len()], life[i % life.len()], i % groups, i % systems));
    }
    for i in 0..components {
        docs.push(format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: component-{i}\n  description: Component {i} of the generated catalog\n  tags: [{}, {}]\n  labels:\n    tier: t{}\n  annotations:\n    github.com/project-slug: acme/component-{i}\n    backstage.io/techdocs-ref: dir:.\n  links:\n    - url: https://example.com/component-{i}\n      title: Dashboard\nspec:\n  type: service\n  lifecycle: {}\n  owner: group-{}\n  system: system-{}\n  providesApis: [api-{}]\n  consumesApis: [api-{}]\n  dependsOn: [resource:resource-{}]\n",
            tags[i % tags.len()], tags[(i + 3) % tags.len()], i % 3, life[i % life.len()], i % groups, i % systems, i % apis, (i * 7 + 1) % apis, i % resources
        ));
    }
    let files = docs
        .chunks(1000)
        .enumerate()
        .map(|(i, chunk)| (format!("part-{i:03}.yaml"), chunk.join("---\n")))
        .collect();
    let names = (0..components.min(200))
        .map(|i| format!("component-{}", i * (components / 200).max(1)))
        .collect();
    (files, names)
}

async fn run() {
    let n = n();
    let dir = tempfile::TempDir::new().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("catalog");
    std::fs::create_dir_all(&root).unwrap();
    let (files, names) = generate(n);
    if let Ok(out) = std::env::var("CATALOG_BENCH_WRITE") {
        write_catalog(std::path::Path::new(&out), n, &files, &names);
        return;
    }
    let mut location = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: generated\nspec:\n  targets:\n",
    );
    for (name, yaml) in &files {
        std::fs::write(root.join(name), yaml).unwrap();
        writeln!(location, "    - ./{name}").unwrap();
    }
    std::fs::write(root.join("all.yaml"), location).unwrap();

    let mut settings = Settings {
        data_dir: dir.path().join("data").display().to_string(),
        ..Settings::default()
    };
    settings.catalog.file_roots = vec![root.display().to_string()];
    settings.rate_limit.service_per_minute = u64::MAX / 2;
    settings.rate_limit.user_per_minute = u64::MAX / 2;
    let app = App::build(settings.validate().unwrap()).await.unwrap();
    let token = app
        .state()
        .auth
        .issuer
        .as_ref()
        .unwrap()
        .issue(
            &TokenSubject::service("bench").unwrap(),
            None,
            jsonwebtoken::get_current_timestamp(),
        )
        .unwrap();
    let (session, _) = app
        .state()
        .ui
        .sessions
        .start(
            fawkes_portal::principal::Principal::user("user:default/user-1"),
            "User 1",
            "bench",
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let auth = format!("Bearer {token}");

    // 1. Ingestion.
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/catalog/locations"))
        .header("authorization", &auth)
        .json(&serde_json::json!({"type": "file", "target": root.join("all.yaml").display().to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let id = response.json::<serde_json::Value>().await.unwrap()["location"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    loop {
        let view: serde_json::Value = client
            .get(format!("{base}/api/catalog/locations/{id}"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if view["status"] != "processing" {
            assert_eq!(view["errors"], serde_json::json!([]), "{view}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ingest = started.elapsed();
    println!("catalog: {n} entities on SQLite, {} files", files.len());
    println!(
        "ingestion (register until served)          {:>8.0} entities/s  ({ingest:.2?})",
        n as f64 / ingest.as_secs_f64()
    );

    // 2. Load.
    let names = Arc::new(names);
    load(&client, &auth, "GET /entities?filter=metadata.name=<x>", {
        let base = base.clone();
        let names = names.clone();
        move |i| {
            format!(
                "{base}/api/catalog/entities?filter=metadata.name={}",
                names[i % names.len()]
            )
        }
    })
    .await;
    load(&client, &auth, "GET /entities?filter=kind=component,spec.lifecycle=production&limit=20", {
        let base = base.clone();
        move |_| format!("{base}/api/catalog/entities?filter=kind=component,spec.lifecycle=production&limit=20")
    })
    .await;
    load(&client, &auth, "GET /entities/by-query?limit=100", {
        let base = base.clone();
        move |_| format!("{base}/api/catalog/entities/by-query?limit=100")
    })
    .await;

    // 3. The whole catalog, streamed.
    let started = Instant::now();
    let mut response = client
        .get(format!("{base}/api/catalog/entities"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    let mut bytes = 0usize;
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
    }
    println!(
        "GET /entities (all, streamed)               {:>8.2?}  {:.1} MB",
        started.elapsed(),
        bytes as f64 / 1e6
    );

    // 4. The web UI.
    let cookie = format!("fawkes_session={session}");
    for (label, path) in [
        ("UI GET /catalog (first page)", "/catalog".to_owned()),
        (
            "UI GET /catalog?kind=all&q=component-12",
            "/catalog?kind=all&q=component-12".to_owned(),
        ),
        (
            "UI GET /catalog/default/component/<x>",
            format!("/catalog/default/component/{}", names[7]),
        ),
        (
            "UI GET /catalog/.../<x>?tab=relations",
            format!("/catalog/default/component/{}?tab=relations", names[7]),
        ),
        ("UI GET / (home)", "/".to_owned()),
    ] {
        let mut times = Vec::new();
        for _ in 0..40 {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.bytes().await.unwrap();
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
            times.push(started.elapsed());
        }
        // The first request builds what later ones find kept (facet counts, the counted page).
        let first = times[0];
        times.sort();
        println!(
            "{label:<44} p50 {:>7.2?}  p95 {:>7.2?}  first {:>7.2?}",
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            first
        );
    }

    // 5. Idle CPU (refresh loop running, 5-minute interval) and memory.
    let cpu_before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle = (cpu_seconds() - cpu_before) / 10.0 * 100.0;
    println!("idle CPU over 10 s                          {idle:>8.2} % of a core");
    println!(
        "peak resident memory (process, incl. client) {:>7.0} MB",
        peak_rss_mb()
    );
    let _ = stop_tx.send(());
    let _ = server.await;
}

/// Writes the generated catalog to `out` for `scripts/catalog-load` (GENERATOR=fawkes): the files,
/// `all-locations.yaml` listing them, and a `manifest.json` in the anchor generator's format.
fn write_catalog(out: &std::path::Path, n: usize, files: &[(String, String)], names: &[String]) {
    std::fs::create_dir_all(out).unwrap();
    let mut location = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: generated\nspec:\n  targets:\n",
    );
    for (name, yaml) in files {
        std::fs::write(out.join(name), yaml).unwrap();
        writeln!(location, "    - ./{name}").unwrap();
    }
    std::fs::write(out.join("all-locations.yaml"), location).unwrap();
    // The entities, the Location entity listing the files, the one generated for the registration.
    let manifest = serde_json::json!({
        "n": n,
        "generator": "benches/catalog.rs",
        "expected_total_via_post_url_location": n + 2,
        "samples": {"component": names[names.len() / 2]},
    });
    std::fs::write(out.join("manifest.json"), manifest.to_string()).unwrap();
    println!(
        "wrote {n} entities in {} files to {}",
        files.len(),
        out.display()
    );
}

async fn load(
    client: &reqwest::Client,
    auth: &str,
    name: &str,
    url: impl Fn(usize) -> String + Send + Sync + Clone + 'static,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (client, auth, url, stop) =
            (client.clone(), auth.to_owned(), url.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = c;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let response = client
                    .get(url(i))
                    .header("authorization", &auth)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.bytes().await.unwrap();
                samples.push(started.elapsed());
                i += CONNECTIONS;
            }
            samples
        }));
    }
    tokio::time::sleep(Duration::from_secs(LOAD_SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize];
    println!(
        "{name:<44} {:>8.0} req/s  p50={:.2?} p99={:.2?}  ({CONNECTIONS} connections)",
        samples.len() as f64 / LOAD_SECONDS as f64,
        at(0.5),
        at(0.99)
    );
}

/// User + system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
