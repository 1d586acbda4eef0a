// Which copy of a project's services commands act on is the Project handle's `instance` (dev,
// or `devenv test`'s throwaway one: project/project.ts withInstance), and where its files go is
// the handle's `layout`. Left here: another checkout's developer sockets (a seed source, gc).
import {devSocketDir as devSocketDirOf} from '../project/project.js';
import {realPath} from '../util/fs.js';

/** The socket dir of another checkout's developer instance (a seed source). */
export const devSocketDir = (otherRoot: string, service: string): string => devSocketDirOf(realPath(otherRoot), service);
