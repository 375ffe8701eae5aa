//! The error tree of Cerberus' `BasicErrorHandler`, rendered as JSON.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::errors::{Key, VError};

#[derive(Default)]
struct Tree {
    entries: Vec<(Key, Vec<Node>)>,
    index: HashMap<Key, usize>,
}

enum Node {
    Message(String),
    Sub(Tree),
}

impl Tree {
    fn add(&mut self, key: &Key, nodes: Vec<Node>) -> usize {
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key.clone(), nodes));
        self.entries.len() - 1
    }

    /// `BasicErrorHandler._insert_error`: a field's list is its messages followed by one
    /// sub-tree.
    fn insert(&mut self, path: &[Key], message: String) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let existing = self.index.get(first).copied();
        if rest.is_empty() {
            match existing {
                Some(i) => {
                    let list = &mut self.entries[i].1;
                    let subtree = list.pop();
                    list.push(Node::Message(message));
                    list.extend(subtree);
                }
                None => {
                    self.add(
                        first,
                        vec![Node::Message(message), Node::Sub(Tree::default())],
                    );
                }
            }
        } else {
            let i = match existing {
                Some(i) => i,
                None => self.add(first, vec![Node::Sub(Tree::default())]),
            };
            if let Some(Node::Sub(subtree)) = self.entries[i].1.last_mut() {
                subtree.insert(rest, message);
            }
        }
    }

    /// `BasicErrorHandler.pretty_tree`: empty trailing sub-trees are dropped.
    fn into_json(self) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, mut list) in self.entries {
            if matches!(list.last(), Some(Node::Sub(t)) if t.entries.is_empty()) {
                list.pop();
            }
            let items = list
                .into_iter()
                .map(|node| match node {
                    Node::Message(m) => Value::String(m),
                    Node::Sub(t) => Value::Object(t.into_json()),
                })
                .collect();
            out.insert(key.py_str(), Value::Array(items));
        }
        out
    }
}

fn insert_error(tree: &mut Tree, error: &VError) {
    match &error.message {
        Some(message) => tree.insert(&error.doc_path, message.clone()),
        None => {
            for child in &error.children {
                insert_error(tree, child);
            }
        }
    }
}

pub(super) fn render(errors: &[VError]) -> Map<String, Value> {
    let mut tree = Tree::default();
    for error in errors {
        insert_error(&mut tree, error);
    }
    tree.into_json()
}
