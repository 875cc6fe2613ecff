//! Reading catalog files: bytes to one JSON value per YAML document, within budgets, so no input
//! (huge, deeply nested, alias bombs, invalid UTF-8) can hang or crash the server.

use serde_json::Value;

/// Largest catalog file read.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most documents (entities) in one file.
pub const MAX_DOCUMENTS: usize = 1000;
/// Deepest nesting of mappings and lists.
pub const MAX_DEPTH: usize = 64;

/// The non-empty documents of `bytes`, each with its 1-based index in the file.
pub fn parse_documents(bytes: &[u8]) -> Result<Vec<(usize, Value)>, String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is {} bytes; catalog files may be at most {MAX_FILE_BYTES} bytes",
            bytes.len()
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    let mut options = serde_saphyr::Options::default();
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_documents = MAX_DOCUMENTS;
    budget.max_aliases = 1000;
    budget.max_anchors = 1000;
    budget.max_nodes = 500_000;
    budget.max_total_scalar_bytes = MAX_FILE_BYTES;
    budget.max_recorded_anchor_events = 100_000;
    options.budget = Some(budget);
    options.with_snippet = false;
    // YAML 1.2 (as Backstage parses it): only true/false are booleans, so `y`, `no`, `on` stay strings.
    options.strict_booleans = true;
    let documents: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|e| format!("YAML error: {}", first_line(&e.to_string())))?;
    Ok(documents
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .map(|(i, v)| (i + 1, v))
        .collect())
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text).trim();
    line.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_indexed_and_empty_ones_skipped() {
        let docs = parse_documents(b"a: 1\n---\n---\nb: [x, y]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].0, 2);
        assert_eq!(docs[1].1["b"][1], "y");
    }

    #[test]
    fn bad_input_is_an_error_not_a_hang() {
        assert!(
            parse_documents(b"a: [")
                .unwrap_err()
                .starts_with("YAML error")
        );
        assert!(parse_documents(b"\xff\xfe").unwrap_err().contains("UTF-8"));
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse_documents(deep.as_bytes()).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse_documents(bomb.as_bytes()).is_err());
        let many = "a: 1\n---\n".repeat(MAX_DOCUMENTS + 1);
        assert!(parse_documents(many.as_bytes()).is_err());
        assert!(
            parse_documents(&vec![b' '; MAX_FILE_BYTES + 1])
                .unwrap_err()
                .contains("at most")
        );
    }
}
