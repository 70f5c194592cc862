//! Path templates (`/users/{id}`, `/files/{name}.json`) and the concrete paths they describe:
//! the one reading of a template that the mock's routing, its stubs and fault rules, and the
//! checker's probes share. A parameter takes any segment but an empty one, between the fixed
//! text around it in its segment.

/// One segment of a template: literal text, or a parameter with fixed text around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param {
        name: String,
        prefix: String,
        suffix: String,
    },
}

impl Segment {
    fn read(segment: &str) -> Segment {
        match (segment.find('{'), segment.rfind('}')) {
            (Some(open), Some(close)) if open < close => Segment::Param {
                name: segment[open + 1..close].to_owned(),
                prefix: segment[..open].to_owned(),
                suffix: segment[close + 1..].to_owned(),
            },
            _ => Segment::Literal(segment.to_owned()),
        }
    }

    /// What a concrete segment gives this one: `Some("")` for a literal it equals, the
    /// parameter's raw text for a parameter; `None` when it does not fit.
    pub fn fit<'p>(&self, part: &'p str) -> Option<&'p str> {
        match self {
            Segment::Literal(text) => (text == part).then_some(""),
            Segment::Param { prefix, suffix, .. } => fit_param(prefix, suffix, part),
        }
    }

    /// Whether it is a parameter that is the whole segment (`{id}`, not `v{major}.json`).
    pub fn is_whole_param(&self) -> bool {
        matches!(self, Segment::Param { prefix, suffix, .. } if prefix.is_empty() && suffix.is_empty())
    }
}

fn fit_param<'p>(prefix: &str, suffix: &str, part: &'p str) -> Option<&'p str> {
    let inner = part.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!inner.is_empty()).then_some(inner)
}

/// A template read once into its segments, for matching many paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    text: String,
    segments: Vec<Segment>,
}

impl PathTemplate {
    /// Reads a template (`/users/{id}`); a path without `{}` is a template of literals.
    pub fn new(template: &str) -> PathTemplate {
        PathTemplate {
            text: template.to_owned(),
            segments: template.split('/').skip(1).map(Segment::read).collect(),
        }
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its segments, after the leading `/`.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// How many of its segments are literal: the more, the more concrete the template
    /// (`/users/me` before `/users/{id}`).
    pub fn literals(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// The names of its parameters.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param { name, .. } => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Whether a concrete path is one it describes.
    pub fn matches(&self, path: &str) -> bool {
        // Segment by segment in step, without collecting: stubs and fault rules ask this
        // of every request.
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = rest.split('/');
        self.segments
            .iter()
            .all(|segment| parts.next().is_some_and(|part| segment.fit(part).is_some()))
            && parts.next().is_none()
    }

    /// The raw (still percent-encoded) text of each parameter of a concrete path it
    /// describes, by name.
    pub fn captures<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let parts: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        self.captures_parts(&parts)
    }

    /// The same, for a path already split into its segments after the leading `/`.
    pub fn captures_parts<'p>(&self, parts: &[&'p str]) -> Option<Vec<(&str, &'p str)>> {
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            let fit = segment.fit(part)?;
            if let Segment::Param { name, .. } = segment {
                params.push((name.as_str(), fit));
            }
        }
        Some(params)
    }
}

/// Whether a concrete path is one a template describes, without reading the template into
/// segments first: the checker asks this for every method of every path of documents with
/// thousands of them.
pub fn template_matches(template: &str, concrete: &str) -> bool {
    let (mut template, mut concrete) = (template.split('/'), concrete.split('/'));
    loop {
        match (template.next(), concrete.next()) {
            (None, None) => return true,
            (Some(t), Some(c)) => {
                let fits = match (t.find('{'), t.rfind('}')) {
                    (Some(open), Some(close)) if open < close => {
                        fit_param(&t[..open], &t[close + 1..], c).is_some()
                    }
                    _ => t == c,
                };
                if !fits {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_describe_paths_segment_by_segment() {
        for (template, path, fits) in [
            ("/user/{username}", "/user/login", true),
            ("/user/login", "/user/login", true),
            ("/user/{username}", "/user/", false),
            ("/user/{username}", "/user/a/b", false),
            ("/files/{name}.json", "/files/a.json", true),
            ("/files/{name}.json", "/files/a.xml", false),
            ("/files/{name}.json", "/files/.json", false),
        ] {
            assert_eq!(template_matches(template, path), fits, "{template} {path}");
            assert_eq!(
                PathTemplate::new(template).matches(path),
                fits,
                "{template} {path}"
            );
        }
        let template = PathTemplate::new("/owners/{ownerId}/pets/v{petId}.json");
        assert_eq!(
            template.captures("/owners/7/pets/va%20b.json"),
            Some(vec![("ownerId", "7"), ("petId", "a%20b")])
        );
        assert_eq!(template.names().collect::<Vec<_>>(), ["ownerId", "petId"]);
        assert_eq!(template.literals(), 2);
        assert!(template.segments()[0] == Segment::Literal("owners".to_owned()));
        assert!(template.segments()[1].is_whole_param());
        assert!(!template.segments()[3].is_whole_param());
    }
}
