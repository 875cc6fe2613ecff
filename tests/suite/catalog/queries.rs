//! Entity reads with Backstage's semantics (reference §2 and the §6 surprises).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{CatalogApp, WAIT};
use crate::support::wait_for;

const FIXTURE: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Alpha
  tags: [java, web]
  labels: {env: prod}
  annotations: {backstage.io/techdocs-ref: "dir:."}
spec: {type: service, lifecycle: production, owner: team-a, providesApis: [pay-api], dependsOn: [resource:db, component:beta]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: beta
  tags: [python]
  description: LONG
spec: {type: website, lifecycle: experimental, owner: group:default/team-b}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: pay-api}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: [], members: [jdoe]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jdoe}
spec: {memberOf: [team-a]}
"#;

async fn fixture() -> CatalogApp {
    let c = CatalogApp::new().await;
    let path = c.write("all.yaml", FIXTURE.replace("LONG", &"x".repeat(201)));
    let view = c.register(&path).await;
    assert_eq!(view["errors"], json!([]), "{view}");
    c
}

fn q(filter: &str) -> String {
    format!("/api/catalog/entities?filter={}", urlencode(filter))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `metadata.name` of each item of a by-query page.
fn item_names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn filters_follow_backstage_semantics() {
    let c = fixture().await;
    // Case-insensitive keys and values.
    assert_eq!(
        c.names(&q("KIND=component,metadata.name=ALPHA")).await,
        ["Alpha"]
    );
    // Surprise 4: the same key twice in one filter is OR.
    assert_eq!(
        c.names(&q("kind=api,kind=group")).await,
        ["pay-api", "team-a"]
    );
    // Different keys are AND; repeated filter parameters are OR.
    assert_eq!(
        c.names(&q("kind=component,spec.type=website")).await,
        ["beta"]
    );
    assert_eq!(
        c.names(&format!("{}&filter=kind=user", q("kind=api")))
            .await,
        ["jdoe", "pay-api"]
    );
    // Surprise 5: arrays, tags as keys, labels, annotations with dots, relations with full refs.
    assert_eq!(c.names(&q("metadata.tags=java")).await, ["Alpha"]);
    assert_eq!(c.names(&q("metadata.tags.python")).await, ["beta"]);
    assert_eq!(c.names(&q("metadata.labels.env=prod")).await, ["Alpha"]);
    assert_eq!(
        c.names(&q("metadata.annotations.backstage.io/techdocs-ref=dir:."))
            .await,
        ["Alpha"]
    );
    assert_eq!(
        c.names(&q("relations.ownedBy=group:default/team-a")).await,
        ["Alpha", "pay-api"]
    );
    assert_eq!(
        c.names(&q("relations.hasMember=user:default/jdoe")).await,
        ["team-a"]
    );
    // spec.owner matches only what was written.
    assert_eq!(c.names(&q("spec.owner=team-a")).await, ["Alpha", "pay-api"]);
    assert_eq!(
        c.names(&q("metadata.namespace=default,kind=user")).await,
        ["jdoe"]
    );
    // A bare key is "exists"; values over 200 characters only satisfy it.
    assert_eq!(c.names(&q("metadata.description")).await, ["beta"]);
    assert_eq!(
        c.names(&q(&format!("metadata.description={}", "x".repeat(201))))
            .await,
        Vec::<String>::new()
    );
    // status and etag are not searchable.
    assert_eq!(c.names(&q("metadata.etag")).await, Vec::<String>::new());
    // Blank filters are ignored.
    assert_eq!(
        c.names("/api/catalog/entities?filter=&filter=kind=user")
            .await,
        ["jdoe"]
    );
}

#[tokio::test]
async fn bad_parameters_are_400_and_surprise_10_limit_zero() {
    let c = fixture().await;
    for (path, message) in [
        (
            "/api/catalog/entities?filtr=kind=x",
            "Unknown query parameter 'filtr'",
        ),
        (
            "/api/catalog/entities?filter==x",
            "Invalid filter, '=x' is not a valid statement",
        ),
        (
            "/api/catalog/entities?limit=0",
            "Invalid limit, must be greater than zero",
        ),
        (
            "/api/catalog/entities?order=up:kind",
            "Invalid order parameter \"up:kind\"",
        ),
        (
            "/api/catalog/entities?fields=a[0]",
            "array type fields are not supported",
        ),
        ("/api/catalog/entities?after=!!", "Malformed after cursor"),
        (
            "/api/catalog/entities/by-query?cursor=e30K!",
            "Malformed cursor",
        ),
        ("/api/catalog/entity-facets", "Missing facet parameter"),
    ] {
        let response = c.get(path).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            response.json()["error"].as_str().unwrap().contains(message),
            "{path}: {}",
            response.text()
        );
    }
    let zero = c.get("/api/catalog/entities/by-query?limit=0").await;
    assert_eq!(zero.status, StatusCode::OK);
    assert_eq!(zero.json()["items"], json!([]));
    assert_eq!(zero.json()["totalItems"], 6);
    // Surprise 9: unknown routes are 404.
    assert_eq!(
        c.get("/api/catalog/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn fields_project_and_order_sorts() {
    let c = fixture().await;
    let items = c
        .get(&format!(
            "{}&fields=kind,metadata.name",
            q("kind=component")
        ))
        .await
        .json();
    let mut items = items.as_array().unwrap().clone();
    items.sort_by_key(|v| v["metadata"]["name"].as_str().unwrap().to_owned());
    assert_eq!(
        items,
        vec![
            json!({"kind": "Component", "metadata": {"name": "Alpha"}}),
            json!({"kind": "Component", "metadata": {"name": "beta"}})
        ]
    );
    let desc = c
        .get("/api/catalog/entities?order=desc:metadata.name&filter=kind=component,kind=api")
        .await
        .json();
    let names: Vec<&str> = desc
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pay-api", "beta", "Alpha"]);
    // Surprise 3: unpaged with an order, entities lacking the field are left out.
    let typed = c
        .get("/api/catalog/entities?order=asc:spec.type")
        .await
        .json();
    assert_eq!(
        typed.as_array().unwrap().len(),
        5,
        "the User lacks spec.type: {typed}"
    );
    // Surprise 6: served relation arrays are sorted.
    let alpha = c.entity("component", "alpha").await;
    assert_eq!(
        alpha["spec"]["dependsOn"],
        json!(["component:beta", "resource:db"])
    );
}

#[tokio::test]
async fn pages_follow_link_headers_to_the_end() {
    let c = fixture().await;
    let mut path =
        "/api/catalog/entities?limit=2&filter=kind=component,kind=api,kind=group,kind=user"
            .to_owned();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let response = c.get(&path).await;
        assert_eq!(response.status, StatusCode::OK);
        for e in response.json().as_array().unwrap() {
            seen.push(e["metadata"]["name"].as_str().unwrap().to_owned());
        }
        let Some(link) = response.headers.get("link") else {
            break;
        };
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        path = link
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_owned();
        assert!(!path.contains("offset="));
    }
    // Paged order is by entity ref.
    assert_eq!(seen, ["pay-api", "Alpha", "beta", "team-a", "jdoe"]);
}

#[tokio::test]
async fn by_query_pages_with_cursors_and_counts() {
    let c = fixture().await;
    let first = c.get("/api/catalog/entities/by-query?limit=2&orderField=metadata.name,asc&filter=kind=component,kind=api,kind=group,kind=user").await.json();
    assert_eq!(first["totalItems"], 5);
    let mut names: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first["pageInfo"]["nextCursor"].as_str().unwrap().to_owned();
    loop {
        let page = c
            .get(&format!(
                "/api/catalog/entities/by-query?limit=2&cursor={}",
                urlencode(&cursor)
            ))
            .await
            .json();
        assert_eq!(page["totalItems"], 5, "the total is carried in the cursor");
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned()),
        );
        match page["pageInfo"]["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(names, ["Alpha", "beta", "jdoe", "pay-api", "team-a"]);
    let text = c.get("/api/catalog/entities/by-query?fullTextFilterTerm=ETA&fullTextFilterFields=metadata.name").await.json();
    assert_eq!(text["items"][0]["metadata"]["name"], "beta");
    assert_eq!(text["totalItems"], 1);
    let post = c.post("/api/catalog/entities/by-query", json!({"query": {"kind": "component", "spec.type": {"$in": ["website"]}}, "fields": ["metadata.name"]})).await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.text());
    assert_eq!(
        post.json()["items"],
        json!([{"metadata": {"name": "beta"}}])
    );
}

#[tokio::test]
async fn by_query_pages_back_with_prev_cursors() {
    let c = fixture().await;
    let paged = |cursor: &str| {
        format!(
            "/api/catalog/entities/by-query?limit=2&cursor={}",
            urlencode(cursor)
        )
    };
    for order in ["asc", "desc"] {
        let first = c
            .get(&format!("/api/catalog/entities/by-query?limit=2&orderField=metadata.name,{order}&filter=kind=component,kind=api,kind=group,kind=user"))
            .await
            .json();
        assert!(
            first["pageInfo"]["prevCursor"].is_null(),
            "the first page has none"
        );
        let mut pages = vec![item_names(&first)];
        let mut page = first;
        while let Some(next) = page["pageInfo"]["nextCursor"].as_str().map(str::to_owned) {
            page = c.get(&paged(&next)).await.json();
            pages.push(item_names(&page));
        }
        assert_eq!(pages.concat().len(), 5, "{pages:?}");
        // Back from the last page, page by page, to the first.
        let mut back = vec![item_names(&page)];
        while let Some(prev) = page["pageInfo"]["prevCursor"].as_str().map(str::to_owned) {
            page = c.get(&paged(&prev)).await.json();
            assert!(
                page["pageInfo"]["nextCursor"].is_string(),
                "a previous page has a next one"
            );
            assert_eq!(page["totalItems"], 5);
            back.push(item_names(&page));
        }
        back.reverse();
        assert_eq!(back, pages, "{order}");
    }
}

#[tokio::test]
async fn by_query_predicates_negate_match_prefixes_and_relations() {
    let c = fixture().await;
    let extra = c.write(
        "extra.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: ledger\n  \
         description: \"Payments, refunds\"\nspec: {type: database, owner: team-a}\n",
    );
    assert_eq!(c.register(&extra).await["errors"], json!([]));
    let by = |query: Value| {
        // Registered locations' generated Location entities left out.
        let query = json!({"$all": [query, {"$not": {"kind": "location"}}]});
        json!({"query": query, "orderBy": [{"field": "metadata.name", "order": "asc"}], "fields": ["metadata.name"]})
    };
    for (query, expected) in [
        (
            json!({"$not": {"kind": "component"}}),
            vec!["jdoe", "ledger", "pay-api", "team-a"],
        ),
        (
            json!({"$not": {"$any": [{"kind": "component"}, {"kind": "resource"}]}}),
            vec!["jdoe", "pay-api", "team-a"],
        ),
        (json!({"spec.type": {"$hasPrefix": "WEB"}}), vec!["beta"]),
        (json!({"spec.type": {"$hasPrefix": "%"}}), vec![]),
        (
            json!({"spec.owner": {"$exists": false}}),
            vec!["jdoe", "team-a"],
        ),
        (
            json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "Group:default/team-a"}}}),
            vec!["Alpha", "ledger", "pay-api"],
        ),
        (
            json!({"metadata.tags": {"$contains": "web"}}),
            vec!["Alpha"],
        ),
        (
            json!({"metadata.description": "payments, refunds"}),
            vec!["ledger"],
        ),
        (json!({"$any": []}), vec![]),
    ] {
        let page = c
            .post("/api/catalog/entities/by-query", by(query.clone()))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.text());
        assert_eq!(item_names(&page.json()), expected, "{query}");
    }
    // The predicate travels in the cursor.
    let mut body = by(json!({"$not": {"kind": "component"}}));
    body["limit"] = json!(3);
    let first = c.post("/api/catalog/entities/by-query", body).await.json();
    assert_eq!(first["totalItems"], 4);
    let cursor = first["pageInfo"]["nextCursor"].as_str().unwrap();
    let rest = c
        .get(&format!(
            "/api/catalog/entities/by-query?cursor={}",
            urlencode(cursor)
        ))
        .await
        .json();
    assert_eq!(item_names(&rest), ["team-a"]);
    let bad = c
        .post(
            "/api/catalog/entities/by-query",
            json!({"query": {"kind": {"$regex": "x"}}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.text().contains("unsupported condition for 'kind'"),
        "{}",
        bad.text()
    );
}

#[tokio::test]
async fn lookups_by_name_uid_and_refs_and_facets() {
    let c = fixture().await;
    let alpha = c.entity("Component", "ALPHA").await;
    let uid = alpha["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        c.get(&format!("/api/catalog/entities/by-uid/{uid}"))
            .await
            .json()["metadata"]["name"],
        "Alpha"
    );
    let missing = c
        .get("/api/catalog/entities/by-name/component/default/nope")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["error"],
        "No entity named 'nope' found, with kind 'component' in namespace 'default'"
    );
    assert_eq!(
        c.get("/api/catalog/entities/by-uid/nope").await.json()["error"],
        "No entity with uid nope"
    );

    // Refs are matched as given, lower-cased: no namespace is filled in (as Backstage).
    let refs = c.post("/api/catalog/entities/by-refs", json!({"entityRefs": ["component:default/beta", "component:nope", "Group:team-a", "GROUP:Default/Team-A"], "fields": ["metadata.name"]})).await.json();
    assert_eq!(
        refs["items"],
        json!([{"metadata": {"name": "beta"}}, null, null, {"metadata": {"name": "team-a"}}])
    );
    let filtered = c
        .post(
            "/api/catalog/entities/by-refs?filter=kind=group",
            json!({"entityRefs": ["component:default/beta", "group:default/team-a"]}),
        )
        .await
        .json();
    assert_eq!(filtered["items"][0], Value::Null);
    assert_eq!(filtered["items"][1]["kind"], "Group");

    let facets = c
        .get("/api/catalog/entity-facets?facet=kind&facet=metadata.tags&filter=kind=component")
        .await
        .json();
    assert_eq!(
        facets["facets"]["kind"],
        json!([{"value": "Component", "count": 2}])
    );
    assert_eq!(
        facets["facets"]["metadata.tags"],
        json!([{"value": "java", "count": 1}, {"value": "python", "count": 1}, {"value": "web", "count": 1}])
    );
    // The same counts with a JSON predicate; here the components not tagged java.
    let posted = c
        .post(
            "/api/catalog/entity-facets",
            json!({"facets": ["kind", "metadata.tags"], "query": {"$all": [{"kind": "component"}, {"$not": {"metadata.tags": "java"}}]}}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text());
    assert_eq!(
        posted.json()["facets"],
        json!({"kind": [{"value": "Component", "count": 1}], "metadata.tags": [{"value": "python", "count": 1}]})
    );
    for (body, message) in [
        (json!({"facets": []}), "Missing facets"),
        (
            json!({"facets": ["kind"], "query": {"kind": {"$regex": "x"}}}),
            "unsupported condition",
        ),
    ] {
        let bad = c.post("/api/catalog/entity-facets", body).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.text().contains(message), "{}", bad.text());
    }

    assert_eq!(
        c.delete(&format!("/api/catalog/entities/by-uid/{uid}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        c.get(&format!("/api/catalog/entities/by-uid/{uid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.delete("/api/catalog/entities/by-uid/unknown")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn the_whole_catalog_streams_ordered_by_uid() {
    let c = CatalogApp::new().await;
    let docs: Vec<String> = (0..1500)
        .map(|i| super::component(&format!("c{i:04}"), "t"))
        .collect();
    let path = c.write("many.yaml", docs[..900].join("---\n"));
    c.register(&path).await;
    let path = c.write("more.yaml", docs[900..].join("---\n"));
    c.register(&path).await;
    let all = c.get("/api/catalog/entities").await.json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1502, "1500 components and two Location entities");
    let uids: Vec<&str> = all
        .iter()
        .map(|e| e["metadata"]["uid"].as_str().unwrap())
        .collect();
    let mut sorted = uids.clone();
    sorted.sort_unstable();
    assert_eq!(uids, sorted);
}

/// A short page of a filter matching many entities (read by walking the entity-ref index) and one
/// matching few (read by looking its matches up) are the same slices of the ordered list.
#[tokio::test]
async fn short_pages_of_large_and_small_match_sets_follow_the_entity_ref_order() {
    let c = CatalogApp::new().await;
    let docs: Vec<String> = (0..1200)
        .rev()
        .map(|i| super::component(&format!("c{i:04}"), "t"))
        .collect();
    let path = c.write("many.yaml", docs[..700].join("---\n"));
    c.register(&path).await;
    let path = c.write("more.yaml", docs[700..].join("---\n"));
    c.register(&path).await;
    let expected = |from: usize, to: usize| -> Vec<String> {
        (from..to).map(|i| format!("c{i:04}")).collect()
    };
    let c = &c;
    let page = |query: String| async move {
        let response = c.get(&format!("/api/catalog/entities?{query}")).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let filter = "filter=kind=component,spec.lifecycle=production";
    assert_eq!(page(format!("{filter}&limit=20")).await, expected(0, 20));
    assert_eq!(
        page(format!("{filter}&offset=20&limit=20")).await,
        expected(20, 40)
    );
    assert_eq!(
        page(format!("{filter}&offset=980&limit=19")).await,
        expected(980, 999)
    );
    assert_eq!(
        page(format!("{filter}&offset=1190&limit=20")).await,
        expected(1190, 1200)
    );
    assert_eq!(
        page("filter=metadata.name=c0700,kind=component&limit=5".into()).await,
        ["c0700"]
    );
    assert_eq!(
        page("filter=kind=location&limit=1".into()).await.len(),
        1,
        "two Location entities, one page of one"
    );
}

/// Answers are kept while the catalog does not change (`catalog::answers`): a repeated list,
/// by-query page or facet count is the same, and the first one after a change shows the change.
#[tokio::test]
async fn repeated_answers_follow_every_change() {
    let c = fixture().await;
    let list = "/api/catalog/entities?filter=kind=component&fields=metadata.name,metadata.uid";
    let page = "/api/catalog/entities/by-query?filter=kind=component&limit=2";
    let facets = "/api/catalog/entity-facets?facet=metadata.uid&filter=kind=component";
    // The sorted uids of a list (an array of entities) and of a facet count.
    let uids = |entities: &Value| -> Vec<String> {
        let items = entities.as_array().unwrap_or_else(|| panic!("{entities}"));
        let mut uids: Vec<String> = items
            .iter()
            .map(|e| e["metadata"]["uid"].as_str().unwrap().to_owned())
            .collect();
        uids.sort();
        uids
    };
    let counted_uids = |counted: &Value| -> Vec<String> {
        let values = counted["facets"]["metadata.uid"].as_array().unwrap();
        let mut uids: Vec<String> = values
            .iter()
            .map(|v| v["value"].as_str().unwrap().to_owned())
            .collect();
        uids.sort();
        uids
    };
    let counted = c.get(facets).await.json();
    assert_eq!(counted_uids(&counted).len(), 2);
    assert_eq!(c.get(facets).await.json(), counted);
    let first = c.get(list).await.json();
    assert_eq!(c.get(list).await.json(), first);
    let before = c.get(page).await.json();
    assert_eq!(before["totalItems"], 2);
    assert_eq!(c.get(page).await.json(), before);
    assert_eq!(uids(&first), uids(&before["items"]));
    let uid = first[0]["metadata"]["uid"].as_str().unwrap().to_owned();
    let deleted = c
        .delete(&format!("/api/catalog/entities/by-uid/{uid}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    // The delete re-processes the entity's location (as Backstage): the entity comes back with
    // a new uid. Every kept answer must show that, not the uid it kept.
    let after = wait_for(
        async || {
            let after = c.get(list).await.json();
            let now = uids(&after);
            (now.len() == 2 && !now.contains(&uid)).then_some(now)
        },
        WAIT,
    )
    .await;
    assert_eq!(uids(&c.get(page).await.json()["items"]), after);
    assert_eq!(counted_uids(&c.get(facets).await.json()), after);
}

/// A client that accepts gzip (Backstage's do) gets the same answer compressed, for lists and
/// by-query pages; one that does not, or refuses it (`q=0`), gets it as it is.
#[tokio::test]
async fn answers_are_gzip_compressed_for_clients_that_accept_it() {
    use std::io::Read;

    let c = fixture().await;
    let get = |path: &str, accept: Option<&str>| {
        let mut request = axum::http::Request::get(path);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        c.app.send(request.body(axum::body::Body::empty()).unwrap())
    };
    for path in [
        "/api/catalog/entities",
        "/api/catalog/entities?filter=kind=component&fields=metadata.name",
        "/api/catalog/entities/by-query?limit=2",
    ] {
        let plain = get(path, None).await;
        assert_eq!(plain.status, StatusCode::OK);
        assert!(plain.headers.get("content-encoding").is_none(), "{path}");
        for accept in ["gzip", "br;q=1.0, gzip;q=0.8, *;q=0.1"] {
            let compressed = get(path, Some(accept)).await;
            assert_eq!(compressed.status, StatusCode::OK);
            assert_eq!(compressed.headers["content-encoding"], "gzip", "{path}");
            assert_eq!(compressed.headers["vary"], "accept-encoding");
            let mut body = Vec::new();
            flate2::read::GzDecoder::new(&compressed.body[..])
                .read_to_end(&mut body)
                .unwrap();
            assert_eq!(body, plain.body, "{path} decodes to the same bytes");
        }
        let refused = get(path, Some("gzip;q=0, identity")).await;
        assert!(refused.headers.get("content-encoding").is_none());
        assert_eq!(refused.body, plain.body);
    }
}
