// The one cwd every entry point (oclif commands, exec, the hook) starts from.
export {currentDir, findProject, openProject, type Project} from '../project/project.js';
