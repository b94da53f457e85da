import { main } from '@shiftops/service-kit';
import { shiftsService } from './service.js';

await main(shiftsService);
