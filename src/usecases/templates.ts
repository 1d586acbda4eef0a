// `devenv templates` and `devenv hook`: static information for the commands.
export {listTemplates} from '../project/templates.js';
export {hookText} from '../activation/hook-text.js';
