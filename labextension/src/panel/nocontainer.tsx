/**
 * The placeholder of the sections that show the selected container (previews,
 * history, metrics) while there is none to show.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { IContainerInfo } from '../types';

/**
 * "No container selected." or, given the selected container (which does not
 * run), "<name> is not running.".
 */
export function NoContainerNote(props: {
  trans: TranslationBundle;
  selected?: IContainerInfo | null;
}): JSX.Element {
  const { trans, selected } = props;
  return (
    <div className="jp-ContainerManager-empty">
      {selected
        ? trans.__('%1 is not running.', selected.name)
        : trans.__('No container selected.')}
    </div>
  );
}
