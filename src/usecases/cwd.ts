// The one cwd every entry point (oclif commands, exec, the hook) starts from.
export {currentDir} from '../project/project.js';
