//! The two files that name an Atlassian app: `atlassian-plugin.xml` and the OSGi manifest.

use quick_xml::events::Event;
use serde::Serialize;

/// What `atlassian-plugin.xml` says about the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Descriptor {
    /// The plugin key: the root's `key` attribute; `None` when missing or empty.
    pub key: Option<String>,
    /// The app's display name: the root's `name` attribute; `None` when missing or empty.
    pub name: Option<String>,
    /// The text of `<plugin-info><version>`, entities resolved; `None` when missing or empty.
    pub version: Option<String>,
    /// The `name` of `<plugin-info><vendor>`; `None` when missing or empty.
    pub vendor: Option<String>,
    /// The `url` of `<plugin-info><vendor>`; `None` when missing or empty.
    pub vendor_url: Option<String>,
    /// The root's `plugins-version` attribute (`2` for an OSGi app) as written, possibly empty.
    pub plugins_version: Option<String>,
}

/// Deeper nesting than this is refused (a real descriptor is a few levels deep).
const MAX_DEPTH: usize = 256;

impl Descriptor {
    /// Parses the descriptor; `Err` is a phrase saying what is wrong with the XML.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
            .map_err(|_| "it is not UTF-8 text".to_owned())?;
        let mut reader = quick_xml::Reader::from_str(text);
        reader.config_mut().trim_text(true);
        let mut d = Descriptor::default();
        let mut stack: Vec<String> = Vec::new();
        let mut saw_root = false;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let name = e.local_name().as_ref().to_owned();
                    let attr = |wanted: &str| -> Option<String> {
                        e.attributes().flatten().find(|a| a.key.local_name().as_ref() == wanted).and_then(
                            |a| {
                                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                    .ok()
                                    .map(|v| v.trim().to_owned())
                            },
                        )
                    };
                    match (stack.len(), name.as_str()) {
                        (0, "atlassian-plugin") => {
                            saw_root = true;
                            d.key = attr("key").filter(|s| !s.is_empty());
                            d.name = attr("name").filter(|s| !s.is_empty());
                            d.plugins_version = attr("plugins-version");
                        }
                        (0, other) => {
                            return Err(format!("its root element is <{other}>, not <atlassian-plugin>"));
                        }
                        (2, "vendor") if stack[1] == "plugin-info" => {
                            d.vendor = attr("name").filter(|s| !s.is_empty());
                            d.vendor_url = attr("url").filter(|s| !s.is_empty());
                        }
                        _ => {}
                    }
                    if matches!(event, Event::Start(_)) {
                        if stack.len() >= MAX_DEPTH {
                            return Err("it nests elements too deeply".into());
                        }
                        stack.push(name);
                    }
                }
                Event::Text(t) if in_version(&stack) => {
                    d.version.get_or_insert_with(String::new).push_str(t.xml10_content().trim());
                }
                Event::GeneralRef(r) if in_version(&stack) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&r).map(str::to_owned),
                    };
                    d.version.get_or_insert_with(String::new).push_str(&resolved.unwrap_or_default());
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root {
            return Err("it has no <atlassian-plugin> element".into());
        }
        d.version = d.version.filter(|v| !v.is_empty());
        Ok(d)
    }
}

/// Inside `<atlassian-plugin><plugin-info><version>`.
fn in_version(stack: &[String]) -> bool {
    stack.len() == 3 && stack[1] == "plugin-info" && stack[2] == "version"
}

/// The main section of `META-INF/MANIFEST.MF`, the headers that identify an app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// `Bundle-SymbolicName` without its directives (`;singleton:=true`); `None` when absent or empty.
    pub bundle_symbolic_name: Option<String>,
    /// `Bundle-Version`; `None` when absent or empty.
    pub bundle_version: Option<String>,
    /// `Bundle-Name`, the app's display name; `None` when absent or empty.
    pub bundle_name: Option<String>,
    /// `Atlassian-Plugin-Key`, which makes a jar an Atlassian app even without a descriptor.
    pub atlassian_plugin_key: Option<String>,
}

impl Manifest {
    /// Parses the main section (up to the first blank line). Lines are at most 72 bytes
    /// and continue on lines that begin with one space; invalid UTF-8 is replaced rather
    /// than refused, since the manifest only names things.
    pub fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
            if line.is_empty() {
                break;
            }
            if let Some(rest) = line.strip_prefix(' ') {
                if let Some((_, v)) = headers.last_mut() {
                    v.push_str(rest);
                }
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim_start().to_owned()));
            }
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Manifest {
            // `Bundle-SymbolicName: com.acme.app;singleton:=true` names `com.acme.app`.
            bundle_symbolic_name: get("Bundle-SymbolicName")
                .map(|v| v.split(';').next().unwrap_or("").trim().to_owned()),
            bundle_version: get("Bundle-Version"),
            bundle_name: get("Bundle-Name"),
            atlassian_plugin_key: get("Atlassian-Plugin-Key"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_typical_descriptor() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<atlassian-plugin key="com.acme.tools" name="Acme &amp; Co Tools" plugins-version="2">
  <plugin-info>
    <description>Tools</description>
    <version>1.2.3</version>
    <vendor name="Acme Ltd" url="https://acme.example"/>
  </plugin-info>
  <web-item key="x"><label>Version</label></web-item>
</atlassian-plugin>"#;
        let d = Descriptor::parse(xml).unwrap();
        assert_eq!(d.key.as_deref(), Some("com.acme.tools"));
        assert_eq!(d.name.as_deref(), Some("Acme & Co Tools"));
        assert_eq!(d.version.as_deref(), Some("1.2.3"));
        assert_eq!(d.vendor.as_deref(), Some("Acme Ltd"));
        assert_eq!(d.plugins_version.as_deref(), Some("2"));
    }

    #[test]
    fn refuses_what_is_not_a_descriptor() {
        assert!(Descriptor::parse(b"<project/>").unwrap_err().contains("<project>"));
        assert!(Descriptor::parse(b"<atlassian-plugin key='a'><x></y></atlassian-plugin>").is_err());
        assert!(Descriptor::parse(&[0xff, 0xfe, 0x00]).is_err());
        assert!(Descriptor::parse(b"").is_err());
        let deep = format!("<atlassian-plugin>{}", "<a>".repeat(1000));
        assert!(Descriptor::parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn reads_manifest_headers_with_continuations() {
        let mf = b"Manifest-Version: 1.0\r\nBundle-SymbolicName: com.acme.very.long.symbolic.name.that.goes.on.and.on.\r\n and.on;singleton:=true\r\nBundle-Version: 1.2.3\r\nAtlassian-Plugin-Key: com.acme.tools\r\n\r\nName: other\r\nBundle-Version: 9\r\n";
        let m = Manifest::parse(mf);
        assert_eq!(
            m.bundle_symbolic_name.as_deref(),
            Some("com.acme.very.long.symbolic.name.that.goes.on.and.on.and.on")
        );
        assert_eq!(m.bundle_version.as_deref(), Some("1.2.3"));
        assert_eq!(m.atlassian_plugin_key.as_deref(), Some("com.acme.tools"));
    }
}
