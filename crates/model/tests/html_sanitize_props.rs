#![allow(clippy::unwrap_used)]
//! Properties of the HTML sanitizer on random tag soup built from hostile pieces: idempotent
//! (`sanitize(sanitize(x)) == sanitize(x)`), and nothing executable, hidden or tracking survives.
//!
//! Short form: plain `cargo test`. Long form: `PROPTEST_CASES=20000 cargo test -p outlook-model
//! --test html_sanitize_props -- --nocapture` (prints one `hostile-input:` line).

mod hostile_support;

use hostile_support::{Outcome, run};
use outlook_model::odoo::html::sanitize_description;
use proptest::prelude::*;

const PIECES: &[&str] = &[
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<table>",
    "<tr>",
    "<td>",
    "</td>",
    "</table>",
    "<ul><li>",
    "</ul>",
    "<a href=\"https://example.com/x?a=1&b=2\">",
    "</a>",
    "<br>",
    "<img src=\"https://example.com/logo.png\" width=\"120\" alt=\"logo\">",
    "<img src=\"https://t.example/o.gif\" width=\"1\" height=\"1\">",
    "<img src=\"https://t.example/o.gif\" style=\"display:none\">",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<script>alert(1)</script>",
    "<script>",
    "</script>",
    "<style>body{display:none}</style>",
    "<iframe src=\"https://evil.example\">",
    "<object data=x>",
    "<embed src=x>",
    "<form action=x>",
    "<input value=x>",
    "<meta http-equiv=refresh>",
    "<link rel=stylesheet href=x>",
    "<base href=x>",
    "<a href=\"javascript:alert(1)\">",
    "<a href=\"  JAVASCRIPT:alert(1)\">",
    "<a href=\"vbscript:x\">",
    "<a href=\"data:text/html,x\">",
    "<a href=\"/web/session/logout\">",
    "<img src=\"data:image/png;base64,AAAA\">",
    "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
    "<div style=\"visibility:hidden\">",
    "<p style=\"color:red;background:url(https://t.example/x);position:fixed\">",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<noscript><img src=x onerror=alert(1)></noscript>",
    "<template><script>",
    "<math><mi xlink:href=\"javascript:alert(1)\">",
    "<textarea>",
    "</textarea>",
    "<title>",
    "<select><option>",
    "&lt;script&gt;",
    "&amp;",
    "&",
    "<",
    ">",
    "\"",
    "'",
    "text",
    " ",
    "\n",
    "é😀",
    "<p onclick=\"x()\" title=\"t\">",
    "<html><head>",
    "<body onload=x>",
    "</body></html>",
    "<plaintext>",
    "<xmp>",
    "<noembed>",
    "<listing>",
    "<image src=x>",
    "<isindex>",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(PIECES).prop_map(str::to_owned),
            1 => ".{0,12}",
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

#[test]
fn sanitizing_is_idempotent_and_leaves_nothing_active() {
    run("html_sanitize", 512, soup(), |html| {
        let once = sanitize_description(&html);
        let twice = sanitize_description(&once);
        prop_assert_eq!(&twice, &once, "input {:?}", html);
        // Only markup matters: text is escaped (`&lt;script&gt;` is harmless), so look inside tags.
        let lower = once.to_ascii_lowercase();
        let tags: Vec<&str> = lower
            .split('<')
            .skip(1)
            .map(|tag| tag.split('>').next().unwrap_or_default())
            .collect();
        for tag in &tags {
            let name = tag
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches('/');
            prop_assert!(
                ![
                    "script", "style", "iframe", "object", "embed", "form", "input", "meta",
                    "link", "base", "svg", "math", "template", "noscript", "textarea", "select",
                    "title",
                ]
                .contains(&name),
                "<{}> in {:?} from {:?}",
                tag,
                once,
                html
            );
            for banned in [
                "javascript:",
                "vbscript:",
                "data:text",
                "data:image/svg",
                "url(",
                "display:none",
                "visibility:hidden",
                "src=\"/",
                "href=\"/",
                "t.example/o.gif",
            ] {
                prop_assert!(
                    !tag.contains(banned),
                    "{} in <{}> of {:?} from {:?}",
                    banned,
                    tag,
                    once,
                    html
                );
            }
            // No event handler: no attribute named on*.
            prop_assert!(
                !tag.split_whitespace()
                    .skip(1)
                    .any(|attr| attr.starts_with("on")),
                "event handler in <{}> of {:?}",
                tag,
                once
            );
        }
        Ok(if once == html {
            Outcome::Accepted
        } else {
            Outcome::Refused
        })
    });
}
