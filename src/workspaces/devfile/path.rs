//! Where in a document a rule is broken: `components[1].container.image`.

use std::fmt;

use super::Violation;

/// A location in the document, built while walking it.
#[derive(Debug, Default, Clone)]
pub struct Path(Vec<Segment>);

#[derive(Debug, Clone)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Path {
    /// Steps into the member `key`.
    pub fn key(&mut self, key: &str) {
        self.0.push(Segment::Key(key.to_owned()));
    }
    /// Steps into item `i`.
    pub fn index(&mut self, i: usize) {
        self.0.push(Segment::Index(i));
    }
    /// Steps back out.
    pub fn pop(&mut self) {
        self.0.pop();
    }
    /// A violation here of a rule of the official JSON schema.
    pub fn schema(&self, message: String) -> Violation {
        Violation {
            path: self.to_string(),
            message,
            from_schema: true,
        }
    }
    /// A violation here of one of devfile/library's rules.
    pub fn rule(&self, message: String) -> Violation {
        Violation {
            path: self.to_string(),
            message,
            from_schema: false,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}
