/**
 * The "New Container" dialog body: name, image and a starter template.
 */
import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { STARTER_TEMPLATES, createOptionsFrom } from '../templates';
import { ICreateContainerOptions } from '../types';

export class CreateContainerForm
  extends Widget
  implements Dialog.IBodyWidget<ICreateContainerOptions>
{
  constructor(
    defaultImage: string,
    template?: string,
    trans: TranslationBundle = nullTranslator.load('jupyter_container_manager')
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
      option.textContent = trans.__(template.label);
      option.title = trans.__(template.description);
      this._template.appendChild(option);
    }
    if (template && STARTER_TEMPLATES.some(t => t.id === template)) {
      this._template.value = template;
    }
  }

  getValue(): ICreateContainerOptions {
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
}
