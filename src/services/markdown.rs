//! Markdown to safe HTML: pulldown-cmark renders CommonMark (plus tables, strikethrough
//! and task lists), then ammonia's allow-list removes anything that could run: `<script>`,
//! event-handler attributes, `javascript:` and other non-web URLs. Links get
//! `rel="noopener noreferrer nofollow"`.

use std::sync::OnceLock;

use pulldown_cmark::{html, Options, Parser};

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer nofollow"))
            .add_tag_attributes("input", ["type", "checked", "disabled"])
            .add_tags(["input"]);
        b
    })
}

/// Renders `markdown` to sanitized HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    sanitizer().clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders() {
        let html = render("# Title\n\nSome *emphasis* and a [link](https://example.com).");
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<em>emphasis</em>"));
        assert!(html.contains(r#"href="https://example.com""#));
        assert!(html.contains("noopener"));
    }

    #[test]
    fn nothing_that_runs_survives() {
        let html = render(
            "<script>alert(1)</script>\n\n<img src=x onerror=\"alert(2)\">\n\n[click](javascript:alert(3))\n\n\
             <a href=\"JaVaScRiPt:alert(4)\">x</a> <div onclick=\"alert(5)\">y</div> <iframe src=\"https://e.x\"></iframe>",
        );
        let lower = html.to_lowercase();
        for bad in ["<script", "onerror", "onclick", "javascript:", "<iframe", "alert(1)"] {
            assert!(!lower.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("<img src=\"x\""), "harmless parts stay: {html}");
    }
}
