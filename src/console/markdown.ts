/**
 * Assistant text as markdown, rendered safely: raw HTML is off (shown as
 * text), images are off (no requests to hosts the model names), and links are
 * limited to http(s) and mailto and open with no referrer.
 */
import MarkdownIt from 'markdown-it';
import { trusted, type Html } from './html.js';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false, breaks: false });
md.disable(['image']);
const SAFE_LINK = /^(https?:|mailto:)/i;
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** Markdown to HTML; everything the text holds is escaped by markdown-it. */
export function markdown(text: string): Html {
  return trusted(md.render(text));
}
