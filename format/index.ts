// Public surface of format/: Go templates for `--format` (go-template.ts) and Docker's rules
// around them (docker-format.ts). Imports nothing of ours but errors.ts.
export {
  alignTabs,
  formatRows,
  type RowFormat,
  renderTemplate,
  splitTableFormat,
  type TemplateRow,
  templateHeader,
  unescapeFormat,
} from './docker-format.ts';
export {
  parseTemplate,
  printValue,
  type Template,
  TemplateError,
  type TemplateOptions,
} from './go-template.ts';
