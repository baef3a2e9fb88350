//! TOML documents read with `toml_edit`, keeping spans.
//!
//! Coverage.py and pytest load TOML into plain nested dicts, so a dotted key
//! (`run.sigterm = true` under `[tool.coverage]`), an inline table and a
//! `[tool.coverage.run]` header all mean the same thing. [`table_at`] walks
//! such paths the same way for every form.

use toml_edit::{Document, Item, TableLike};

use crate::source::Span;

pub type TomlDoc = Document<String>;

/// A parse error with the span `toml_edit` reports.
#[derive(Debug, Clone)]
pub struct TomlError {
    pub span: Span,
    pub message: String,
}

pub fn parse(text: &str) -> Result<TomlDoc, TomlError> {
    Document::parse(text.to_string()).map_err(|e| {
        let span = e.span().map(Span::from).unwrap_or_else(|| Span::empty(0));
        TomlError {
            span,
            message: e.message().trim().to_string(),
        }
    })
}

/// The table at a dotted path (`["tool", "coverage", "run"]`), whatever form
/// it was written in.
pub fn table_at<'a>(doc: &'a TomlDoc, path: &[&str]) -> Option<&'a Item> {
    let mut item = doc.as_item();
    for part in path {
        item = item.as_table_like()?.get(part)?;
    }
    item.is_table_like().then_some(item)
}

/// The best span to point at for a table: its `[header]` when it has one,
/// an inline table's braces, otherwise its first key (a table made only of
/// dotted keys has no text of its own).
pub fn table_span(item: &Item) -> Option<Span> {
    let own = match item {
        Item::Table(t) => t.span(),
        Item::Value(toml_edit::Value::InlineTable(t)) => t.span(),
        _ => None,
    };
    if let Some(span) = own {
        return Some(span.into());
    }
    let table: &dyn TableLike = item.as_table_like()?;
    table
        .iter()
        .filter_map(|(k, _)| table.get_key_value(k))
        .find_map(|(k, _)| k.span())
        .map(Span::from)
}

/// The span of an item's value, if it was parsed from text.
pub fn item_span(item: &Item) -> Option<Span> {
    item.span().map(Span::from)
}

/// A TOML string, or the strings of an array of strings.
pub fn strings(item: &Item) -> Option<Vec<String>> {
    if let Some(s) = item.as_str() {
        return Some(vec![s.to_string()]);
    }
    let array = item.as_array()?;
    array
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_and_headers_reach_the_same_table() {
        for text in [
            "[tool.coverage.run]\nsigterm = true\n",
            "[tool.coverage]\nrun.sigterm = true\n",
            "[tool]\ncoverage.run = { sigterm = true }\n",
        ] {
            let doc = parse(text).unwrap();
            let run = table_at(&doc, &["tool", "coverage", "run"]).unwrap();
            let (key, item) = run
                .as_table_like()
                .unwrap()
                .get_key_value("sigterm")
                .unwrap();
            assert_eq!(item.as_bool(), Some(true), "{text}");
            assert_eq!(&text[Span::from(key.span().unwrap()).range()], "sigterm");
            assert_eq!(&text[item_span(item).unwrap().range()], "true");
            let span = table_span(run).unwrap();
            assert!(span.end <= text.len());
        }
    }

    #[test]
    fn header_span_covers_the_header() {
        let text = "[project]\nname = 'x'\n\n[tool.coverage.run]\nbranch = true\n";
        let doc = parse(text).unwrap();
        let run = table_at(&doc, &["tool", "coverage", "run"]).unwrap();
        assert_eq!(
            &text[table_span(run).unwrap().range()],
            "[tool.coverage.run]"
        );
    }

    #[test]
    fn errors_have_spans() {
        let err = parse("[tool.coverage.run\nx = 1\n").unwrap_err();
        assert!(err.span.start <= 19, "{err:?}");
        assert!(!err.message.is_empty());
    }
}
