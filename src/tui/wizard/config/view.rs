//! Drawing the configuration screen: env and subnets on the left, the
//! override editor and the preview on the right, the rule (or why moving
//! on was refused) at the bottom.

use super::subnets::RULE;
use super::{ConfigScreen, Part};
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

/// What the empty editor shows until it is focused.
const EXAMPLE: [&str; 6] = [
    "Tab here and write kubeadm documents, merged field by field",
    "over the image's etc/kubeadm.yml, e.g.",
    "  apiVersion: kubeadm.k8s.io/v1beta3",
    "  kind: KubeletConfiguration",
    "  maxPods: 200",
    "(the subnet fields below write a ClusterConfiguration here)",
];

fn part<'a>(title: &'a str, focused: bool, theme: &Theme) -> Block<'a> {
    let block = Block::bordered().title(title);
    if focused {
        block.border_style(theme.accent())
    } else {
        block.border_style(theme.dim())
    }
}

impl ConfigScreen {
    /// Draw the screen.
    pub(super) fn draw(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let outer = Block::bordered()
            .title(" 4 configuration: env, subnets, kubeadm override (Ctrl-N: review) ");
        let inner = outer.inner(area);
        f.render_widget(outer, area);
        // The rule or the refusal, wrapped: two lines on a narrow screen.
        let note_rows = if inner.width < 120 { 2 } else { 1 };
        let [top, bottom] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(note_rows)]).areas(inner);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(42), Constraint::Min(0)]).areas(top);
        let subnet_lines = self.subnets.lines(self.subnet_focus(), theme);
        let [env, nets] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(subnet_lines.len() as u16 + 2),
        ])
        .areas(left);
        let [editor, preview] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Min(0)]).areas(right);

        let block = part(" env (* changed) ", self.focus == Part::Env, theme);
        let rows = block.inner(env).height as usize;
        let lines = self.env.lines(rows, self.focus == Part::Env, theme);
        f.render_widget(Paragraph::new(lines).block(block), env);

        let focused = matches!(self.focus, Part::Subnet(_));
        let block = part(" subnets ", focused, theme);
        f.render_widget(Paragraph::new(subnet_lines).block(block), nets);

        self.render_editor(f, editor, theme);
        self.render_preview(f, preview, theme);

        let note = match &self.note {
            Some(n) => Line::styled(n.as_str(), theme.error()),
            None => Line::styled(RULE, theme.dim()),
        };
        f.render_widget(Paragraph::new(note).wrap(Wrap { trim: false }), bottom);
    }

    fn subnet_focus(&self) -> Option<usize> {
        match self.focus {
            Part::Subnet(i) => Some(i),
            _ => None,
        }
    }

    fn render_editor(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let focused = self.focus == Part::Editor;
        let block = part(
            " kubeadm override (YAML; --- between documents) ",
            focused,
            theme,
        );
        let inner = block.inner(area);
        f.render_widget(block, area);
        // Two lines: a parser's message names the line it noticed and the
        // line where the construct began.
        let [text, bar] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(2)]).areas(inner);
        let marked = self.checked.as_ref().err().and_then(|e| e.line);
        let empty = self.editor.lines().iter().all(|l| l.trim().is_empty());
        let lines = if empty && !focused {
            EXAMPLE
                .iter()
                .map(|l| Line::styled(*l, theme.dim()))
                .collect()
        } else {
            self.editor.view(
                text.height as usize,
                text.width as usize,
                focused,
                marked,
                theme,
            )
        };
        f.render_widget(Paragraph::new(lines), text);
        let status = match &self.checked {
            Err(finding) => Line::styled(finding.message.as_str(), theme.error()),
            Ok(docs) if docs.is_empty() => Line::styled(
                "empty: the image's kubeadm.yml and tug's defaults apply",
                theme.dim(),
            ),
            Ok(docs) => Line::styled(format!("ok: {} document(s)", docs.len()), theme.ok()),
        };
        f.render_widget(Paragraph::new(status).wrap(Wrap { trim: false }), bar);
    }

    fn render_preview(&self, f: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let updating = if self.running || self.wants_preview() {
            " (updating…) "
        } else {
            " "
        };
        let title = format!(" preview: the merged kubeadm init configuration{updating}");
        let block = part(&title, self.focus == Part::Preview, theme);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let lines: Vec<Line<'_>> = match &self.preview_error {
            Some(e) => vec![Line::styled(e.as_str(), theme.error())],
            None if self.preview.is_empty() => vec![Line::styled("merging…", theme.warn())],
            None => self
                .preview
                .iter()
                .skip(self.scroll.top)
                .take(inner.height as usize)
                .map(|l| Line::styled(l.as_str(), theme.text()))
                .collect(),
        };
        f.render_widget(Paragraph::new(lines), inner);
    }
}
