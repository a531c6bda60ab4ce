/**
 * One section of the container panel: a titled PanelWithToolbar holding one view, with
 * optional toolbar items. Every section (containers, files, previews, metrics,
 * history) is built here.
 */
import { PanelWithToolbar } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

export interface IToolbarItem {
  name: string;
  widget: Widget;
}

/** A section with the DOM id `id`, the (translated) title `label` and `view` in it. */
export function createSection(
  id: string,
  label: string,
  view: Widget,
  toolbarItems: IToolbarItem[] = []
): Panel {
  const section = new PanelWithToolbar();
  section.id = id;
  section.title.label = label;
  section.addClass('jp-ContainerManager-section');
  for (const item of toolbarItems) {
    section.toolbar.addItem(item.name, item.widget);
  }
  section.addWidget(view);
  return section;
}
