//! Which operations `--include-*` and `--exclude-*` keep: every kind of `--include-*` given
//! must match (any of its values), and no `--exclude-*` may.

use openapi::model::Operation;

use super::SetupError;

/// The values of one kind of filter: paths, a path pattern, methods, operation ids, tags.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub paths: Vec<String>,
    pub path_regex: Option<String>,
    pub methods: Vec<String>,
    pub operation_ids: Vec<String>,
    pub tags: Vec<String>,
}

/// A selection read once: its pattern compiled, its methods upper-cased.
#[derive(Debug)]
struct Compiled {
    paths: Vec<String>,
    path_regex: Option<regex::Regex>,
    methods: Vec<String>,
    operation_ids: Vec<String>,
    tags: Vec<String>,
}

impl Compiled {
    fn new(selection: Selection, flag: &'static str) -> Result<Compiled, SetupError> {
        let path_regex = selection
            .path_regex
            .map(|pattern| {
                regex::Regex::new(&pattern).map_err(|e| SetupError::Pattern {
                    flag,
                    pattern,
                    why: e.to_string(),
                })
            })
            .transpose()?;
        Ok(Compiled {
            paths: selection.paths,
            path_regex,
            methods: selection
                .methods
                .iter()
                .map(|m| m.trim().to_ascii_uppercase())
                .collect(),
            operation_ids: selection.operation_ids,
            tags: selection.tags,
        })
    }
}

/// The operations to check.
#[derive(Debug)]
pub struct Filter {
    include: Compiled,
    exclude: Compiled,
}

impl Filter {
    pub fn new(include: Selection, exclude: Selection) -> Result<Filter, SetupError> {
        Ok(Filter {
            include: Compiled::new(include, "--include-path-regex")?,
            exclude: Compiled::new(exclude, "--exclude-path-regex")?,
        })
    }

    /// Whether the operation is checked.
    pub fn keeps(&self, operation: &Operation) -> bool {
        let method = operation.method.as_str();
        let id = operation.operation_id.as_deref().unwrap_or_default();
        let has_tag = |tags: &[String]| tags.iter().any(|t| operation.tags.contains(t));
        let (include, exclude) = (&self.include, &self.exclude);
        let included = (include.paths.is_empty() || include.paths.contains(&operation.path))
            && include
                .path_regex
                .as_ref()
                .is_none_or(|r| r.is_match(&operation.path))
            && (include.methods.is_empty() || include.methods.iter().any(|m| m == method))
            && (include.operation_ids.is_empty() || include.operation_ids.iter().any(|i| i == id))
            && (include.tags.is_empty() || has_tag(&include.tags));
        let excluded = exclude.paths.contains(&operation.path)
            || exclude
                .path_regex
                .as_ref()
                .is_some_and(|r| r.is_match(&operation.path))
            || exclude.methods.iter().any(|m| m == method)
            || exclude.operation_ids.iter().any(|i| i == id)
            || has_tag(&exclude.tags);
        included && !excluded
    }
}
