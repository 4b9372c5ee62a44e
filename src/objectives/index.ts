// Every objective, registered by importing its file.
import './clm.js';
