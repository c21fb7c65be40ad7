//! The library's modules form layers that point down only, with no cycle between modules (see DESIGN.md and the
//! README's "How the code is laid out"). This test reads `src/`, finds every `crate::` path outside comments
//! (a name re-exported at the crate root counts as the module that defines it), and checks both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// From the bottom up. A module may name modules of its own layer and of the layers below.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["grammar", "boundary", "excerpt", "limits", "leniency"]),
    ("event", &["event"]),
    ("rules", &["rules"]),
    ("decoder and encoder", &["error", "decoder", "encoder"]),
    ("model", &["model", "builder", "split"]),
    ("json", &["json"]),
    ("codec, client, capture", &["codec", "client", "capture"]),
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS, DESIGN.md and the README"))
}

/// The module a source file belongs to: `src/x.rs` is `x`, `src/json/*.rs` is `json`.
fn module_of(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.trim_end_matches(".rs").to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::name` in `code` outside comments, and the names of `use crate::{a, b::c}` groups.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let line = line.split(" //").next().unwrap();
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        names.push(name);
                    }
                }
            } else {
                let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                names.push(name);
            }
            rest = after;
        }
    }
    names
}

/// Names re-exported at the crate root, with the module that defines them: `pub use module::{A, B};` (on one
/// line or several) and `pub use module::A;`.
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let mut exports = BTreeMap::new();
    for statement in lib.split("pub use ").skip(1) {
        let statement = &statement[..statement.find(';').expect("a use statement ends with ;")];
        let (module, names) = statement.split_once("::").expect("pub use module::...");
        let names = names.trim().trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            exports.insert(name.to_owned(), module.trim().to_owned());
        }
    }
    exports
}

/// Module -> the modules it names.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let exports = root_exports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&file, &src);
        if module == "lib" {
            continue;
        }
        let code = std::fs::read_to_string(&file).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for name in crate_paths(&code) {
            let target = match exports.get(&name) {
                Some(defining) => defining.clone(),
                None => {
                    assert!(
                        src.join(format!("{name}.rs")).exists() || src.join(&name).is_dir(),
                        "{}: `crate::{name}` is neither a module nor a root re-export",
                        file.display()
                    );
                    name
                }
            };
            if target != module {
                uses.insert(target);
            }
        }
    }
    graph
}

/// Each use of a module in a higher layer, as a line of text.
fn upward_uses(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut upward = Vec::new();
    for (module, uses) in graph {
        for target in uses {
            let (from, to) = (layer_of(module), layer_of(target));
            if to > from {
                upward.push(format!(
                    "{module} ({}) names {target} ({})",
                    LAYERS[from].0, LAYERS[to].0
                ));
            }
        }
    }
    upward
}

/// A cycle of the graph, as `a -> b -> a`, if it has one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Result<(), String> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            return Err(format!("{} -> {module}", path[at..].join(" -> ")));
        }
        if !done.insert(module) {
            return Ok(());
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done)?;
        }
        path.pop();
        Ok(())
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done).err())
}

#[test]
fn layers_point_down_only() {
    let graph = module_graph();
    assert!(graph.len() >= 15, "the scan found the modules: {graph:?}");
    let upward = upward_uses(&graph);
    assert!(
        upward.is_empty(),
        "modules naming a layer above them:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_module_cycle() {
    let graph = module_graph();
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {cycle}");
    }
}

#[test]
fn the_checks_find_what_they_must() {
    // Paths in code count, groups are split, comments do not count.
    let code = "use crate::rules::Rule;\nlet x = crate::grammar::f(crate::Limits::default());\n/// [`A`](crate::model::A)\n// crate::json\nuse crate::{event, boundary::Boundary};";
    assert_eq!(crate_paths(code), ["rules", "grammar", "Limits", "event", "boundary"]);
    let lib = "pub use a::A;\npub use b::{\n    B1, B2,\n};\n#[cfg(x)]\npub use c::{C};";
    let exports: Vec<(String, String)> = root_exports(lib).into_iter().collect();
    let expected = [("A", "a"), ("B1", "b"), ("B2", "b"), ("C", "c")].map(|(n, m)| (n.to_owned(), m.to_owned()));
    assert_eq!(exports, expected);
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in edges {
            g.entry((*from).into()).or_default().insert((*to).into());
            g.entry((*to).into()).or_default();
        }
        g
    };
    // The two cycles issue 12 found, and the encoder naming the model.
    let cycle = find_cycle(&graph(&[
        ("builder", "encoder"),
        ("encoder", "model"),
        ("model", "builder"),
    ]));
    assert_eq!(cycle.as_deref(), Some("builder -> encoder -> model -> builder"));
    let cycle = find_cycle(&graph(&[
        ("decoder", "rules"),
        ("rules", "model"),
        ("model", "decoder"),
    ]));
    assert_eq!(cycle.as_deref(), Some("decoder -> rules -> model -> decoder"));
    assert_eq!(
        find_cycle(&graph(&[
            ("model", "decoder"),
            ("decoder", "rules"),
            ("model", "rules")
        ])),
        None
    );
    assert_eq!(
        upward_uses(&graph(&[("encoder", "model"), ("model", "encoder")])),
        ["encoder (decoder and encoder) names model (model)"]
    );
}
