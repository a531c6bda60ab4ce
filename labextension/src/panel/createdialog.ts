/**
 * The "New Container" dialog body: name, image and a starter template, or a
 * snapshot to start from.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import {
  STARTER_TEMPLATES,
  createOptionsFrom,
  templateText
} from '../templates';
import { ICreateContainerOptions, ISnapshotInfo } from '../types';

export class CreateContainerForm
  extends Widget
  implements Dialog.IBodyWidget<ICreateContainerOptions>
{
  constructor(
    defaultImage: string,
    template?: string,
    trans: TranslationBundle = nullTranslator.load('jupyter_container_manager'),
    snapshots?: Promise<ISnapshotInfo[]>
  ) {
    super({ node: document.createElement('form') });
    this.addClass('jp-ContainerManager-createForm');
    const form = this.node as HTMLFormElement;
    form.addEventListener('submit', event => event.preventDefault());

    this._name = this._field(trans.__('Name'), 'input') as HTMLInputElement;
    this._name.placeholder = trans.__('my-app (optional)');
    this._name.name = 'name';

    this._image = this._field(trans.__('Image'), 'input') as HTMLInputElement;
    this._image.placeholder = trans.__('the server default image');
    this._image.value = defaultImage;
    this._image.name = 'image';

    this._template = this._field(
      trans.__('Starter template'),
      'select'
    ) as HTMLSelectElement;
    this._template.name = 'template';
    for (const template of STARTER_TEMPLATES) {
      const option = document.createElement('option');
      option.value = template.id;
      const text = templateText(trans, template);
      option.textContent = text.label;
      option.title = text.description;
      this._template.appendChild(option);
    }
    if (template && STARTER_TEMPLATES.some(t => t.id === template)) {
      this._template.value = template;
    }

    this._snapshot = this._field(
      trans.__('Start from snapshot'),
      'select'
    ) as HTMLSelectElement;
    this._snapshot.name = 'snapshot';
    const none = document.createElement('option');
    none.value = '';
    none.textContent = trans.__('None: the image and template above');
    this._snapshot.appendChild(none);
    this._snapshot.addEventListener('change', () => {
      // A snapshot brings its own image and files.
      const fromSnapshot = this._snapshot.value !== '';
      this._image.disabled = fromSnapshot;
      this._template.disabled = fromSnapshot;
    });
    void snapshots
      ?.then(list => {
        for (const snapshot of [...list].sort((a, b) =>
          b.created.localeCompare(a.created)
        )) {
          const option = document.createElement('option');
          option.value = snapshot.id;
          option.textContent = snapshot.name
            ? trans.__('%1 (%2)', snapshot.name, snapshot.id.slice(0, 8))
            : snapshot.id.slice(0, 12);
          option.title = snapshot.created;
          this._snapshot.appendChild(option);
        }
      })
      .catch(() => {
        // No snapshots (e.g. the swarm backend): a plain create only.
      });
  }

  getValue(): ICreateContainerOptions {
    if (this._snapshot.value) {
      const name = this._name.value.trim();
      return name
        ? { name, snapshot: this._snapshot.value }
        : { snapshot: this._snapshot.value };
    }
    return createOptionsFrom({
      name: this._name.value,
      image: this._image.value,
      template: this._template.value
    });
  }

  protected onAfterAttach(): void {
    this._name.focus();
  }

  private _field(label: string, tag: 'input' | 'select'): HTMLElement {
    const wrapper = document.createElement('label');
    wrapper.className = 'jp-ContainerManager-field';
    const text = document.createElement('span');
    text.textContent = label;
    const control = document.createElement(tag);
    control.className = tag === 'input' ? 'jp-mod-styled' : 'jp-mod-styled';
    control.setAttribute('aria-label', label);
    wrapper.append(text, control);
    this.node.appendChild(wrapper);
    return control;
  }

  private _name: HTMLInputElement;
  private _image: HTMLInputElement;
  private _template: HTMLSelectElement;
  private _snapshot: HTMLSelectElement;
}
