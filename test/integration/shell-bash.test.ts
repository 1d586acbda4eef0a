// Real interactive bash in tmux: cd in loads, cd out restores exactly, nothing runs until
// allowed; plus `set -u`, PROMPT_COMMAND as an array and the hook installed twice.
import {shellSuite} from '../helpers/shell-suite.js';

shellSuite('bash', {hardenedBefore: 'set -u; _t_a() { :; }', promptCommandArray: ['_t_a']});
