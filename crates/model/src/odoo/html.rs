//! HTML made safe on its way into Odoo: [`sanitize_description`].
//!
//! Why here: an Outlook body is written by whoever sent the invitation, anyone on the internet. Odoo
//! shows `calendar.event.description` as HTML in its web client, so a `<script>`, an `onerror=`, a
//! `javascript:` link or an `<img src="/web/session/logout">` in a body would run (or act) inside every
//! Odoo user's session that opens the event. Odoo sanitizes HTML fields on write too; this is the second
//! lock, and it is the one our tests can prove.
//!
//! How: a whitelist, never a blacklist, with [`ammonia`] (html5ever, the browser's parsing algorithm):
//! ordinary formatting, tables, links and images stay; scripts, style sheets, frames, objects, forms,
//! `meta`/`link`/`base`, event handlers (`on*`), and every URL scheme but `http`, `https`, `mailto`,
//! `tel` go. Relative URLs go too: they would resolve against Odoo's own origin (a GET to an Odoo route
//! in the viewer's session). Links get `rel="noopener noreferrer"`. Inline `style` keeps only
//! typographic and box properties, none of which can load a URL.
//!
//! Before that, a pass with [`scraper`] (the same html5ever) removes what the reader cannot see:
//! images sized 0 or 1 px (by attribute or inline style) and elements hidden by inline style
//! (`display:none`, `visibility:hidden`, `opacity:0`). A hidden remote image is a tracking pixel that
//! would report each Odoo reader to the sender; hidden text stays hidden (the whitelist would otherwise
//! drop the `display` that hid it). This pass is a detector, not the safety net: whatever it misses
//! is still sanitized by the whitelist.
//!
//! The online-meeting link gets the same care ([`safe_link`]). Only the Outlook -> Odoo direction is
//! sanitized ([`crate::odoo::OdooEvent::from_event`]); what Odoo sends to Outlook is Odoo's own,
//! already sanitized, content. The result is idempotent (`sanitize(sanitize(x)) == sanitize(x)`, a
//! property test checks it), so re-reading a stored body never looks like an edit.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use ammonia::{Builder, Url, UrlRelative};
use scraper::{Html, Node};

/// URL schemes kept in `href`/`src`. `data` is let through the scheme check only to be narrowed by
/// [`keep_attribute`] to raster images in `<img src>`.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "tel", "data"];

/// Elements removed together with their content (their text is code, or noise without them).
/// Everything not whitelisted is removed too, but its text is kept.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "title", "template", "iframe", "frame", "frameset", "object", "embed",
    "applet", "noscript", "noembed", "noframes", "svg", "math", "select", "textarea", "head",
];

/// Inline CSS properties kept: typography and boxes. None of them takes a `url()`, so no style can
/// fetch anything; `display`, `position` and friends are left out so nothing can overlay Odoo's page.
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "font-variant",
    "line-height",
    "letter-spacing",
    "word-spacing",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "white-space",
    "vertical-align",
    "direction",
    "width",
    "height",
    "max-width",
    "min-width",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "list-style-type",
];

/// Inline images of these types are kept in `<img src="data:...">` (some mail clients paste screenshots
/// that way). An image element never runs script, but SVG is left out anyway: it is markup, not pixels.
const DATA_IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/jpg",
    "image/gif",
    "image/webp",
    "image/bmp",
];

/// A link Odoo may open: `http` or `https` only, else `None`. Odoo opens `videocall_location` with
/// its "Join Video Call" button (an `act_url`) and puts it in invitation mails as an `href`, so a
/// `javascript:` URL from an Outlook invitation would run in the Odoo user's session.
pub fn safe_link(url: &str) -> Option<&str> {
    Url::parse(url.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        .then_some(url)
}

/// Makes an Outlook body safe to store in Odoo's `description`. See the module documentation for
/// what is kept and why. Idempotent; never fails (malformed HTML is parsed as a browser would).
pub fn sanitize_description(html: &str) -> String {
    // html5ever drops a byte-order mark only at the very start of its input; one further in would
    // become the start on the next pass. It is invisible: drop them all.
    let mut current = one_pass(&html.replace('\u{feff}', ""));
    // A DOM does not always serialize to HTML that parses back to the same DOM (an `<a>` inside a
    // table inside an `<a>` is re-parented differently the second time), so one pass is not always
    // idempotent. Passes until nothing changes make it so; real bodies settle after the second.
    for _ in 1..MAX_PASSES {
        let next = one_pass(&current);
        if next == current {
            return current;
        }
        current = next;
    }
    // Markup that keeps moving is not worth keeping as markup: its text is (text is stable).
    text_only().clean(&current).to_string()
}

/// Passes before [`sanitize_description`] gives up on the markup.
const MAX_PASSES: usize = 4;

fn one_pass(html: &str) -> String {
    builder().clean(&drop_invisible(html)).to_string()
}

fn text_only() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = Builder::empty();
        b.clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect());
        b
    })
}

fn builder() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = Builder::default();
        b.url_schemes(URL_SCHEMES.iter().copied().collect())
            .url_relative(UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer"))
            .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
            .add_generic_attributes(["style", "dir"])
            .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect::<HashSet<_>>())
            .strip_comments(true)
            .attribute_filter(keep_attribute);
        b
    })
}

/// Narrows what the whitelist let through: `data:` URLs only as raster images in `<img src>`.
fn keep_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    // Parse as the URL check after this filter will, so that case and leading blanks cannot disguise
    // the scheme.
    let is_data = Url::parse(value).is_ok_and(|u| u.scheme() == "data");
    if !is_data {
        return Some(Cow::Borrowed(value));
    }
    let raster = element == "img" && attribute == "src" && {
        let media_type = value
            .trim_start()
            .get("data:".len()..)
            .and_then(|rest| rest.split([';', ',']).next())
            .map(|t| t.trim().to_ascii_lowercase());
        media_type.is_some_and(|t| DATA_IMAGE_TYPES.contains(&t.as_str()))
    };
    raster.then_some(Cow::Borrowed(value))
}

/// Removes tracking pixels and elements hidden by inline style. Returns the input unchanged (borrowed)
/// when there is nothing to remove, so ordinary bodies are parsed once by the sanitizer only.
fn drop_invisible(html: &str) -> Cow<'_, str> {
    let mut document = Html::parse_fragment(html);
    let invisible: Vec<_> = document
        .tree
        .nodes()
        .filter(|node| match node.value() {
            Node::Element(element) => {
                let style_hides = element.attr("style").is_some_and(style_hides);
                let tiny_image = element.name() == "img"
                    && (element.attr("width").is_some_and(is_tiny_length)
                        || element.attr("height").is_some_and(is_tiny_length)
                        || element.attr("style").is_some_and(style_sizes_tiny));
                style_hides || tiny_image
            }
            _ => false,
        })
        .map(|node| node.id())
        .collect();
    if invisible.is_empty() {
        return Cow::Borrowed(html);
    }
    for id in invisible {
        if let Some(mut node) = document.tree.get_mut(id) {
            node.detach();
        }
    }
    Cow::Owned(document.root_element().inner_html())
}

/// The declarations of an inline style as lowercase `(name, value)` pairs, comments and `!important`
/// removed. Enough to detect hiding; the sanitizer parses styles with a real CSS parser.
fn declarations(style: &str) -> impl Iterator<Item = (String, String)> {
    let mut text = String::with_capacity(style.len());
    let mut rest = style;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start + 2..]
            .find("*/")
            .map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    text.push_str(rest);
    text.split(';')
        .filter_map(|decl| {
            let (name, value) = decl.split_once(':')?;
            let value = value.trim().to_ascii_lowercase();
            let value = value.trim_end_matches("!important").trim().to_owned();
            Some((name.trim().to_ascii_lowercase(), value))
        })
        .collect::<Vec<_>>()
        .into_iter()
}

fn style_hides(style: &str) -> bool {
    declarations(style).any(|(name, value)| match name.as_str() {
        "display" => value == "none",
        "visibility" => value == "hidden" || value == "collapse",
        "opacity" => value.parse::<f64>().is_ok_and(|o| o <= 0.0),
        _ => false,
    })
}

fn style_sizes_tiny(style: &str) -> bool {
    declarations(style).any(|(name, value)| {
        matches!(
            name.as_str(),
            "width" | "height" | "max-width" | "max-height"
        ) && is_tiny_length(&value)
    })
}

/// True for a length of at most 1 px (`1`, `0px`, `1.0PX`) or of zero in any unit (`0em`, `0%`).
fn is_tiny_length(value: &str) -> bool {
    let value = value.trim();
    let number_end = value
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-')))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(number_end);
    let Ok(number) = number.parse::<f64>() else {
        return false;
    };
    let unit = unit.trim();
    number <= 0.0 || (number <= 1.0 && (unit.is_empty() || unit.eq_ignore_ascii_case("px")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize_description(html)
    }

    #[test]
    fn only_web_links_are_kept_for_odoo_to_open() {
        assert_eq!(
            safe_link("https://teams.example/l/meetup-join/1"),
            Some("https://teams.example/l/meetup-join/1")
        );
        for bad in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "/web/session/logout",
            "",
        ] {
            assert_eq!(safe_link(bad), None, "{bad}");
        }
    }

    #[test]
    fn dangerous_elements_go_with_their_content() {
        let out = clean(
            "<p>Hi</p><script>alert(1)</script><style>p{color:red}</style>\
             <iframe src=\"https://evil.example\">x</iframe><object data=\"x\">o</object><embed src=\"x\">\
             <form action=\"https://evil.example\"><input name=\"p\">Pay here</form>\
             <meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">\
             <link rel=\"stylesheet\" href=\"https://evil.example/s.css\"><base href=\"https://evil.example/\">",
        );
        assert_eq!(out, "<p>Hi</p>Pay here");
    }

    #[test]
    fn event_handlers_and_script_urls_go() {
        let out = clean(
            "<img src=\"https://example.com/a.png\" onerror=\"alert(1)\" alt=\"a\">\
             <a href=\"javascript:alert(1)\" onclick=\"x()\">j</a><a href=\" JaVaScRiPt:alert(1)\">k</a>\
             <a href=\"vbscript:msgbox\">v</a><a href=\"data:text/html,<script>alert(1)</script>\">d</a>",
        );
        assert_eq!(
            out,
            "<img src=\"https://example.com/a.png\" alt=\"a\"><a rel=\"noopener noreferrer\">j</a>\
             <a rel=\"noopener noreferrer\">k</a><a rel=\"noopener noreferrer\">v</a>\
             <a rel=\"noopener noreferrer\">d</a>"
        );
    }

    #[test]
    fn relative_urls_cannot_reach_odoo_routes() {
        let out = clean("<img src=\"/web/session/logout\"><a href=\"/odoo/action-1\">x</a>");
        assert_eq!(out, "<img><a rel=\"noopener noreferrer\">x</a>");
    }

    #[test]
    fn tracking_pixels_and_hidden_elements_go() {
        for pixel in [
            "<img src=\"https://t.example/o.gif\" width=\"1\" height=\"1\">",
            "<img src=\"https://t.example/o.gif\" width=\"0\">",
            "<img src=\"https://t.example/o.gif\" height=\"1px\">",
            "<img src=\"https://t.example/o.gif\" style=\"width:1px;height:1px\">",
            "<img src=\"https://t.example/o.gif\" style=\"WIDTH: /* x */ 0 !important\">",
            "<img src=\"https://t.example/o.gif\" style=\"display:none\">",
            "<div style=\"display: none\"><img src=\"https://t.example/o.gif\">preheader</div>",
            "<span style=\"visibility:hidden\">x</span>",
            "<span style=\"opacity:0\">x</span>",
        ] {
            assert_eq!(
                clean(&format!("<p>Text</p>{pixel}")),
                "<p>Text</p>",
                "{pixel}"
            );
        }
    }

    #[test]
    fn ordinary_content_stays() {
        let body = "<div dir=\"ltr\"><p style=\"color:#333;font-size:14px\">Agenda <b>bold</b> <i>it</i> \
                    <u>u</u></p><ul><li>one</li></ul><table><tbody><tr><td colspan=\"2\">cell</td></tr>\
                    </tbody></table><a href=\"https://teams.example/join?x=1&amp;y=2\" \
                    rel=\"noopener noreferrer\">Join</a><img src=\"https://example.com/logo.png\" \
                    width=\"120\" height=\"40\" alt=\"Logo\"><br></div>";
        assert_eq!(clean(body), body);
    }

    #[test]
    fn data_urls_only_as_raster_images() {
        let png = "<img src=\"data:image/png;base64,iVBORw0KGgo=\">";
        assert_eq!(clean(png), png);
        assert_eq!(clean("<img src=\"data:image/svg+xml,<svg/>\">"), "<img>");
        assert_eq!(clean("<img src=\"data:text/html;base64,PHA+\">"), "<img>");
    }

    #[test]
    fn styles_keep_formatting_not_urls_or_layout() {
        assert_eq!(
            clean(
                "<p style=\"color:red;background:url(https://t.example/x);position:fixed;font-weight:bold\">x</p>"
            ),
            "<p style=\"color:red;font-weight:bold\">x</p>"
        );
    }

    #[test]
    fn a_whole_outlook_document_becomes_its_body() {
        let outlook = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\
                       <style>p{margin:0}</style><title>T</title></head><body><!-- c --><div>Hello</div></body></html>";
        assert_eq!(clean(outlook), "<div>Hello</div>");
    }

    #[test]
    fn idempotent_on_examples() {
        for html in [
            "<p>a & b < c</p>",
            "<table><tr><td>x</table>",
            "<a href=\"https://x.example\"><a href=\"https://y.example\">nested</a></a>",
            "<p><div>block in p</div></p>",
            "<img src=\"https://t.example/o.gif\" width=\"1\"><b><i>mis</b>nested</i>",
            "plain text\nwith lines",
        ] {
            let once = clean(html);
            assert_eq!(clean(&once), once, "{html}");
        }
    }
}
