// Real interactive fish in tmux: cd in loads, cd out restores exactly, nothing runs until allowed.
import {shellSuite} from '../helpers/shell-suite.js';

shellSuite('fish');
