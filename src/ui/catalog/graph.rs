//! The relations graph of an entity page, as Backstage's catalog-graph draws it: the entity in
//! the middle, each related entity around it (one node per entity, its relation types on the
//! edge), every node a link to its page when the catalog has it. Laid out here as an ellipse;
//! `templates/catalog/graph.html` writes the SVG, and the page lists the same relations as text.

use std::collections::BTreeMap;

use crate::catalog::model::EntityRef;

pub const WIDTH: f64 = 900.0;
const NODE_WIDTH: f64 = 190.0;
const NODE_HEIGHT: f64 = 38.0;
/// Related entities drawn at most; the list below the graph has them all.
pub const MAX_NODES: usize = 24;

pub struct Node {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub label: String,
    pub full: String,
    pub link: Option<String>,
    pub current: bool,
}

pub struct Edge {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub label: String,
    pub label_x: f64,
    pub label_y: f64,
}

pub struct Graph {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Related entities not drawn.
    pub hidden: usize,
}

/// A node's label: the ref without the default namespace, cut to fit the node.
fn short(text: &str) -> String {
    let text = text.replacen(":default/", ":", 1);
    if text.chars().count() <= 26 {
        text
    } else {
        format!("{}…", text.chars().take(25).collect::<String>())
    }
}

/// Lays out `current` with its `relations` (type, target ref); `link` gives a target's page if
/// the catalog has it.
pub fn layout(
    current: &EntityRef,
    relations: &[(String, String)],
    link: impl Fn(&str) -> Option<String>,
) -> Graph {
    let mut by_target: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (kind, target) in relations {
        by_target
            .entry(target.as_str())
            .or_default()
            .push(kind.as_str());
    }
    let total = by_target.len();
    let shown: Vec<(&str, Vec<&str>)> = by_target.into_iter().take(MAX_NODES).collect();
    let count = shown.len();
    let rows = count.div_ceil(2).max(1) as f64;
    let height = (rows * 70.0 + 120.0).max(260.0);
    let (cx, cy) = (WIDTH / 2.0, height / 2.0);
    let (rx, ry) = (
        WIDTH / 2.0 - NODE_WIDTH / 2.0 - 10.0,
        height / 2.0 - NODE_HEIGHT,
    );
    let center = current.to_string();
    let mut nodes = vec![Node {
        x: cx - NODE_WIDTH / 2.0,
        y: cy - NODE_HEIGHT / 2.0,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        label: short(&center),
        full: center,
        link: None,
        current: true,
    }];
    let mut edges = Vec::new();
    for (i, (target, kinds)) in shown.into_iter().enumerate() {
        let angle = std::f64::consts::TAU * i as f64 / count as f64 - std::f64::consts::FRAC_PI_2;
        let (x, y) = (cx + rx * angle.cos(), cy + ry * angle.sin());
        let label = kinds.join(", ");
        edges.push(Edge {
            x1: cx,
            y1: cy,
            x2: x,
            y2: y,
            label_x: cx + (x - cx) * 0.55,
            label_y: cy + (y - cy) * 0.55 - 4.0,
            label,
        });
        nodes.push(Node {
            x: x - NODE_WIDTH / 2.0,
            y: y - NODE_HEIGHT / 2.0,
            width: NODE_WIDTH,
            height: NODE_HEIGHT,
            label: short(target),
            full: target.to_owned(),
            link: link(target),
            current: false,
        });
    }
    Graph {
        width: WIDTH,
        height,
        nodes,
        edges,
        hidden: total - count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_node_per_related_entity_with_its_relation_types() {
        let current = EntityRef::new("component", "default", "svc");
        let relations = vec![
            ("ownedBy".to_owned(), "group:default/team-a".to_owned()),
            ("partOf".to_owned(), "system:default/shop".to_owned()),
            ("dependsOn".to_owned(), "resource:default/db".to_owned()),
            ("consumesApi".to_owned(), "api:default/pay".to_owned()),
            ("dependencyOf".to_owned(), "group:default/team-a".to_owned()),
        ];
        let graph = layout(&current, &relations, |target| {
            (target != "resource:default/db").then(|| format!("/x/{target}"))
        });
        assert_eq!(graph.nodes.len(), 5);
        assert_eq!(graph.edges.len(), 4);
        assert!(graph.nodes[0].current);
        let team = graph
            .nodes
            .iter()
            .find(|n| n.full == "group:default/team-a")
            .unwrap();
        assert!(team.link.is_some());
        assert!(
            graph
                .edges
                .iter()
                .any(|e| e.label == "ownedBy, dependencyOf")
        );
        let db = graph
            .nodes
            .iter()
            .find(|n| n.full == "resource:default/db")
            .unwrap();
        assert!(db.link.is_none(), "not in the catalog");
        for node in &graph.nodes {
            assert!(
                node.x >= 0.0 && node.x + node.width <= WIDTH,
                "{}",
                node.full
            );
            assert!(node.y >= 0.0 && node.y + node.height <= graph.height);
        }
        let many: Vec<(String, String)> = (0..40)
            .map(|i| ("hasMember".to_owned(), format!("user:default/u{i}")))
            .collect();
        let big = layout(&current, &many, |_| None);
        assert_eq!(big.nodes.len(), MAX_NODES + 1);
        assert_eq!(big.hidden, 40 - MAX_NODES);
    }
}
