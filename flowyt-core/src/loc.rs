//! Source locations.
//!
//! The model never stores a concrete position: every node carries a [`Loc`], an index into a
//! table that the front end keeps. The JSON loader keeps byte [`Span`]s into the file it read
//! ([`SourceMap`]); the proc-macros keep token spans. The validator only copies `Loc`s around.

use std::ops::Range;

/// Where a model node came from: an index into the front end's location table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Loc(pub u32);

/// A byte range in a source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: saturate(start),
            end: saturate(end),
        }
    }

    /// The span as a `Range<usize>`.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Something that hands out [`Loc`]s for the positions a front end knows about.
pub trait LocTable {
    /// The position type of this front end (a byte span, a token span).
    type Pos;
    /// Records a position and returns its `Loc`.
    fn push(&mut self, pos: Self::Pos) -> Loc;
}

/// Line and column (both 1-based; the column counts characters, as editors and rustc do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub col: usize,
}

/// Maps byte offsets of one text to line and column.
#[derive(Clone, Debug, Default)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// The line and column of byte `offset` in `text` (the same text given to [`LineIndex::new`]).
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        LineCol {
            line: line + 1,
            col: col + 1,
        }
    }
}

/// The location table of one JSON source file: its name, its text, and a byte span for each `Loc`.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// The file name shown in diagnostics (as given by the caller, e.g. `flows/search.json`).
    pub name: String,
    /// The text of the file.
    pub text: String,
    spans: Vec<Span>,
    lines: LineIndex,
}

impl SourceMap {
    /// A source map for `text`, named `name` in diagnostics.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceMap {
        let text = text.into();
        let lines = LineIndex::new(&text);
        SourceMap {
            name: name.into(),
            text,
            spans: Vec::new(),
            lines,
        }
    }

    /// The span recorded for `loc`, if this map handed it out.
    pub fn span(&self, loc: Loc) -> Option<Span> {
        self.spans.get(loc.0 as usize).copied()
    }

    /// Line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.lines.line_col(&self.text, offset)
    }

    /// The text of one line (1-based), without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        self.text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or_default()
    }
}

impl LocTable for SourceMap {
    type Pos = Span;
    fn push(&mut self, pos: Span) -> Loc {
        let loc = Loc(u32::try_from(self.spans.len()).unwrap_or(u32::MAX));
        self.spans.push(pos);
        loc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, col: 1 });
        assert_eq!(idx.line_col(text, 3), LineCol { line: 2, col: 1 });
        // `ç` is two bytes: `d` is the second character.
        assert_eq!(idx.line_col(text, 5), LineCol { line: 2, col: 2 });
        assert_eq!(idx.line_col(text, 7), LineCol { line: 3, col: 1 });
        assert_eq!(idx.line_col(text, 99), LineCol { line: 4, col: 2 });
    }
}
