//! Renders the `*.tmpl`/`*.tpl` files of an unpacked image (rootfs or
//! application) in place: `etc/a.conf.tmpl` becomes `etc/a.conf`, with the
//! template's file mode, optionally removing the template afterwards (what
//! `sealctl render --clear` does on the hosts).
//!
//! Every template is read and rendered before any file is written, so a
//! template error leaves the tree untouched. Outputs replace their target
//! atomically (write beside it, then rename), so a link planted at the output
//! path is replaced rather than written through. Templates are small; each is
//! read whole, up to [`RenderOptions::max_size`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{Template, TemplateError};

/// The top-level directories whose templates are rendered (sealos renders
/// `etc`, `scripts` and `manifests`; tug's SPEC adds `statics`).
pub const TEMPLATE_DIRS: [&str; 4] = ["etc", "scripts", "manifests", "statics"];

/// File name endings that mark a template (`.tpl` as `sealctl render` accepts).
pub const TEMPLATE_SUFFIXES: [&str; 2] = [".tmpl", ".tpl"];

/// The default cap on one template's size.
pub const DEFAULT_MAX_TEMPLATE_SIZE: u64 = 8 * 1024 * 1024;

/// How [`render_rootfs`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Delete each template after its output is written (`--clear`).
    pub remove_templates: bool,
    /// Refuse templates larger than this many bytes.
    pub max_size: u64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            remove_templates: false,
            max_size: DEFAULT_MAX_TEMPLATE_SIZE,
        }
    }
}

/// One rendered file, both paths relative to the rendered root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub template: PathBuf,
    pub output: PathBuf,
}

/// Why a tree could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderDirError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{path}: template is larger than the {max}-byte limit")]
    TooLarge { path: PathBuf, max: u64 },
    #[error("{path}: template is not valid UTF-8")]
    NotUtf8 { path: PathBuf },
    #[error("{path}: is a symbolic link; tug does not render templates through links")]
    Symlink { path: PathBuf },
    #[error("{first} and {second} both render to {output}")]
    SameOutput {
        first: PathBuf,
        second: PathBuf,
        output: PathBuf,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RenderDirError + '_ {
    move |source| RenderDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

struct Pending {
    rel: PathBuf,
    output_rel: PathBuf,
    mode: u32,
    content: String,
}

/// Renders every template under `root`'s [`TEMPLATE_DIRS`] with `data`.
/// Returns what was rendered, in path order.
pub fn render_rootfs(
    root: &Path,
    data: &BTreeMap<String, String>,
    options: &RenderOptions,
) -> Result<Vec<Rendered>, RenderDirError> {
    let mut templates = Vec::new();
    for dir in TEMPLATE_DIRS {
        let rel = PathBuf::from(dir);
        let path = root.join(&rel);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(&path)(e)),
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(RenderDirError::Symlink { path });
            }
            Ok(meta) if meta.is_dir() => collect(root, &rel, &mut templates)?,
            Ok(_) => continue,
        }
    }
    let mut pending = Vec::with_capacity(templates.len());
    let mut outputs = BTreeMap::new();
    for (rel, output_rel) in templates {
        if let Some(first) = outputs.insert(output_rel.clone(), rel.clone()) {
            return Err(RenderDirError::SameOutput {
                first,
                second: rel,
                output: output_rel,
            });
        }
        pending.push(render_one(root, rel, output_rel, data, options.max_size)?);
    }
    let mut done = Vec::with_capacity(pending.len());
    for p in pending {
        write_output(root, &p)?;
        if options.remove_templates {
            let path = root.join(&p.rel);
            fs::remove_file(&path).map_err(io_err(&path))?;
        }
        done.push(Rendered {
            template: p.rel,
            output: p.output_rel,
        });
    }
    Ok(done)
}

/// Finds templates under `rel` (relative to `root`) without following links.
fn collect(
    root: &Path,
    rel: &Path,
    found: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), RenderDirError> {
    let dir = root.join(rel);
    let mut entries: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        entries.insert(rel.join(entry.file_name()));
    }
    for child in entries {
        let path = root.join(&child);
        let meta = fs::symlink_metadata(&path).map_err(io_err(&path))?;
        let name = child
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let output = TEMPLATE_SUFFIXES
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|stem| !stem.is_empty()));
        if meta.is_dir() {
            collect(root, &child, found)?;
        } else if let Some(stem) = output {
            if meta.file_type().is_symlink() {
                return Err(RenderDirError::Symlink { path: child });
            }
            if meta.is_file() {
                let output = child.with_file_name(stem);
                found.push((child, output));
            }
        }
    }
    Ok(())
}

fn render_one(
    root: &Path,
    rel: PathBuf,
    output_rel: PathBuf,
    data: &BTreeMap<String, String>,
    max: u64,
) -> Result<Pending, RenderDirError> {
    let path = root.join(&rel);
    let file = fs::File::open(&path).map_err(io_err(&path))?;
    let mode = file.metadata().map_err(io_err(&path))?.permissions().mode() & 0o7777;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err(&path))?;
    if bytes.len() as u64 > max {
        return Err(RenderDirError::TooLarge { path: rel, max });
    }
    let source =
        String::from_utf8(bytes).map_err(|_| RenderDirError::NotUtf8 { path: rel.clone() })?;
    let template = Template::parse(&rel.to_string_lossy(), &source)?;
    let content = template.render(data)?;
    Ok(Pending {
        rel,
        output_rel,
        mode,
        content,
    })
}

fn write_output(root: &Path, p: &Pending) -> Result<(), RenderDirError> {
    let output = root.join(&p.output_rel);
    let name = p
        .output_rel
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let temp = output.with_file_name(format!(".{name}.tug-render"));
    match fs::remove_file(&temp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&temp)(e)),
        _ => {}
    }
    fs::write(&temp, &p.content).map_err(io_err(&temp))?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(p.mode)).map_err(io_err(&temp))?;
    fs::rename(&temp, &output).map_err(io_err(&output))
}
