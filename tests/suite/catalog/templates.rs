//! Scaffolder Templates (`scaffolder.backstage.io/v1beta3`): the Fawkes templates register, their
//! rules agree with Backstage's own schema, and their `$yaml`/`$text`/`$json` placeholders resolve
//! relative to the file they are in.

use serde_json::{Value, json};

use super::{CatalogApp, relations};
use crate::support::testdata;
use fawkes_portal::catalog::parse::parse_documents;
use fawkes_portal::catalog::template::check_template;

const TEMPLATES: [&str; 3] = ["python-service", "java-service", "nodejs-service"];

/// Backstage's Template schema, its envelope (`$ref: Entity`, checked elsewhere) left out.
fn official_schema() -> jsonschema::Validator {
    let path = testdata().join("backstage/Template.v1beta3.schema.json");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(schema["allOf"][0], json!({"$ref": "Entity"}));
    schema["allOf"][0] = json!({});
    jsonschema::draft7::new(&schema).unwrap()
}

fn fawkes_template(name: &str) -> Value {
    let path = testdata().join(format!("fawkes/templates/{name}/template.yaml"));
    let mut docs = parse_documents(&std::fs::read(path).unwrap()).unwrap();
    docs.remove(0).1
}

#[test]
fn the_template_rules_agree_with_backstages_schema() {
    let schema = official_schema();
    let mut cases: Vec<Value> = TEMPLATES.iter().map(|t| fawkes_template(t)).collect();
    let base = fawkes_template("java-service");
    let mutations: Vec<(&str, Value)> = vec![
        ("/spec/steps/0", json!("fetch-base")),
        ("/spec/steps/0/action", json!(1)),
        ("/spec/steps/0/if", json!(false)),
        ("/spec/steps/0/if", json!(["x"])),
        ("/spec/steps/0/input", json!("x")),
        ("/spec/steps", json!({"a": 1})),
        ("/spec/type", json!("")),
        ("/spec/owner", json!(7)),
        ("/spec/parameters", json!({"properties": {}})),
        ("/spec/parameters", json!("x")),
        ("/spec/parameters/0", json!(3)),
        ("/spec/parameters/0/when", json!(1)),
        ("/spec/output/links/0/url", json!("")),
        ("/spec/output/extra", json!(1)),
        ("/spec/output/extra", json!("text")),
        (
            "/spec/presentation",
            json!({"buttonLabels": {"createButtonText": 1}}),
        ),
        ("/spec/formDecorators", json!([{"id": "x", "input": []}])),
        ("/spec/secrets", json!({"schema": "x"})),
        ("/spec/anything", json!({"free": true})),
    ];
    for (pointer, value) in mutations {
        let mut case = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        match case.pointer_mut(parent).unwrap() {
            Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
            Value::Object(map) => {
                map.insert(key.to_owned(), value);
            }
            _ => panic!("{pointer}"),
        }
        cases.push(case);
    }
    let mut without_action = base.clone();
    without_action["spec"]["steps"][0]
        .as_object_mut()
        .unwrap()
        .remove("action");
    cases.push(without_action);
    let mut without_steps = base;
    without_steps["spec"]
        .as_object_mut()
        .unwrap()
        .remove("steps");
    cases.push(without_steps);
    let mut invalid = 0;
    for case in &cases {
        let ours = check_template(case.get("spec"));
        assert_eq!(
            schema.is_valid(case),
            ours.is_ok(),
            "{ours:?} for {}",
            case["spec"]
        );
        invalid += usize::from(ours.is_err());
    }
    assert!(invalid >= 15, "{invalid} of {} invalid", cases.len());
}

/// `templates/location.yaml` as a `file` location: its relative `url` targets become the
/// absolute paths of the copies in `tests/data/fawkes`.
fn templates_location(c: &CatalogApp, fawkes: &std::path::Path) -> String {
    let text = std::fs::read_to_string(fawkes.join("templates/location.yaml")).unwrap();
    let text = text
        .replace("type: url", "type: file")
        .replace("./", &format!("{}/templates/", fawkes.display()));
    c.write("templates-location.yaml", text)
}

#[tokio::test]
async fn the_fawkes_templates_register_with_their_owner() {
    let fawkes = std::fs::canonicalize(testdata().join("fawkes")).unwrap();
    let f = fawkes.display().to_string();
    let c = CatalogApp::with(move |s| s.catalog.file_roots.push(f)).await;
    let view = c.register(&templates_location(&c, &fawkes)).await;
    assert_eq!(view["status"], "ready", "{view}");
    assert_eq!(view["errors"], json!([]), "{view}");
    let names = c.names("/api/catalog/entities?filter=kind=template").await;
    assert_eq!(names, ["java-service", "nodejs-service", "python-service"]);
    for name in TEMPLATES {
        let template = c.entity("template", name).await;
        assert_eq!(
            relations(&template),
            ["ownedBy -> group:default/platform-team"]
        );
        assert_eq!(template["spec"]["steps"][0]["id"], "fetch-base", "{name}");
    }
    // `parameters: [{$yaml: ../defaults/parameters/service-info.yaml}, ...]`, resolved beside the file.
    let python = c.entity("template", "python-service").await;
    let parameters = python["spec"]["parameters"].as_array().unwrap();
    let titles: Vec<&str> = parameters
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Service Information",
            "Repository Configuration",
            "Deployment Configuration"
        ],
        "{python}"
    );
    assert_eq!(parameters[0]["required"][0], "name");
}

#[tokio::test]
async fn a_template_with_string_steps_is_refused_with_backstages_message() {
    let c = CatalogApp::new().await;
    let path = c.write(
        "t.yaml",
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: tpl}\nspec: {type: service, steps: [fetch-base]}\n",
    );
    let response = c
        .post(
            "/api/catalog/locations",
            json!({"type": "file", "target": path}),
        )
        .await;
    assert_eq!(response.status, 400, "{}", response.text());
    let message = response.json()["error"].as_str().unwrap().to_owned();
    assert!(
        message.contains("Processor ScaffolderEntitiesProcessor threw an error while validating the entity template:default/tpl; caused by TypeError: /spec/steps/0 must be object"),
        "{message}"
    );
}

#[tokio::test]
async fn placeholders_past_their_limits_fail_only_the_entities_concerned() {
    let c = CatalogApp::new().await;
    for i in 0..=100 {
        c.write(&format!("part-{i}.txt"), format!("part {i}"));
    }
    let texts = |range: std::ops::RangeInclusive<usize>| {
        range
            .map(|i| format!("  p{i}: {{$text: ./part-{i}.txt}}\n"))
            .collect::<String>()
    };
    let entity = |name: &str, placeholders: String| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {name}}}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n{placeholders}"
        )
    };
    // One entity with 101 placeholders; then 100 placeholders in one entity and one more file in
    // the next, which makes 101 files read for one catalog file.
    let file = [
        entity("plain", String::new()),
        entity("too-many", texts(0..=100)),
        entity("hundred", texts(0..=99)),
        entity("one-more-file", texts(100..=100)),
    ]
    .join("---\n");
    c.write("entities.yaml", file);
    // Listed by a Location: the registered file itself would be refused whole (400), as
    // Backstage refuses a root file that fails processing.
    let root = c.write(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: root}\nspec: {targets: [./entities.yaml]}\n",
    );
    let view = c.register(&root).await;

    assert_eq!(
        c.entity("component", "plain").await["metadata"]["name"],
        "plain"
    );
    let hundred = c.entity("component", "hundred").await;
    assert_eq!(hundred["spec"]["p99"], "part 99");
    for missing in ["too-many", "one-more-file"] {
        let response = c
            .get(&format!(
                "/api/catalog/entities/by-name/component/default/{missing}"
            ))
            .await;
        assert_eq!(response.status, 404, "{missing}");
    }
    let errors = view["errors"].to_string();
    assert!(
        errors.contains("(document 2)")
            && errors.contains("more than 100 placeholders in one entity"),
        "{errors}"
    );
    assert!(
        errors.contains("(document 4)")
            && errors.contains("more than 100 files read for placeholders of one catalog file"),
        "{errors}"
    );
}
